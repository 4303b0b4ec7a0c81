// Two aggregates @graphile/pg-aggregates 0.1.1 lacks, added through its documented spec list
// (README "Defining your own aggregates"): count(column) (a NOT NULL column gives the group's
// row count; the stock plugin has only count(distinct ...)) and max() on timestamps
// (the stock max is for number-like types only).
module.exports = function ExtraAggregatesPlugin(builder) {
  // pg-aggregates 0.1.1 types groupedAggregates' `keys` as [String!]: a group whose key is NULL
  // (processes."user" is nullable) fails the whole request with "Cannot return null for
  // non-nullable field ProcessAggregates.keys". v5's pg-aggregates 0.2 types it [String], as here.
  builder.hook("GraphQLObjectType:fields", (fields, build, context) => {
    if (!context.scope.isPgAggregateContainerType || !fields.keys) return fields;
    const { GraphQLList, GraphQLString } = build.graphql;
    return { ...fields, keys: { ...fields.keys, type: new GraphQLList(GraphQLString) } };
  });
  builder.hook("build", (build) => {
    const { pgSql: sql } = build;
    const specs = build.pgAggregateSpecs;
    if (!specs) throw new Error("load @graphile/pg-aggregates first");
    const max = specs.find((s) => s.id === "max");
    const numberLike = max.isSuitableType;
    max.isSuitableType = (t) => numberLike(t) || t.id === "1184" || t.id === "1114";
    const bigint = build.pgIntrospectionResultsByKind.type.find((t) => t.id === "20");
    specs.push({
      id: "count",
      humanLabel: "count",
      HumanLabel: "Count",
      isSuitableType: () => true,
      sqlAggregateWrap: (frag) => sql.fragment`count(${frag})`,
      isNonNull: true,
      pgTypeAndModifierModifier: () => [bigint, null],
    });
    return build;
  });
};
