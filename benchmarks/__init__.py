"""``make bench``: throughput figures of procmon's hot paths, printed and saved as JSON."""
