#!/bin/sh
# Refresh the vendored GraphiQL page assets from npm (see SOURCES.md); run from anywhere,
# then commit what changed. graphiql@3 is the last major with UMD bundles (5.x is ESM-only).
set -eu
GRAPHIQL=${GRAPHIQL:-3.9.0}
REACT=${REACT:-18.3.1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    mkdir "${package%-*}"
    tar xzf "$package.tgz" -C "${package%-*}" --strip-components=1
done
# The source map is not shipped: without the comment a browser's tools do not ask for it.
sed '/^\/\/# sourceMappingURL=/d' graphiql/graphiql.min.js >"$here/graphiql.min.js"
cp graphiql/graphiql.min.css "$here/graphiql.min.css"
cp react/umd/react.production.min.js "$here/react.production.min.js"
cp react-dom/umd/react-dom.production.min.js "$here/react-dom.production.min.js"
cp graphiql/LICENSE "$here/LICENSE.graphiql"
cp react/LICENSE "$here/LICENSE.react"
cd "$here" && sha256sum ./*.min.js ./*.min.css
