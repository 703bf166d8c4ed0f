-- lhv_pgvector--0.1.0.sql: lhv's access method on pgvector's vector columns.
--
--   CREATE INDEX ON items USING lhv (embedding lhv_vector_l2_ops);
--
-- A pgvector user switches the index method and keeps the table, the column
-- type and every query: the operator classes use pgvector's own operators
-- (<->, <#>, <=> on vector), so ORDER BY embedding <-> $1 LIMIT k is answered
-- by the lhv index. lhv reads vector values directly: their layout is
-- lhvector's (a varlena header, an int16 dimension, an int16 zero, float4
-- components), and lhv recognises the type as the `vector` of the extension
-- `vector`, by name in the catalog; lhv never links to pgvector. This is a
-- separate extension so that installing lhv never requires pgvector.

\echo Use "CREATE EXTENSION lhv_pgvector" to load this file. \quit

CREATE OPERATOR CLASS lhv_vector_l2_ops FOR TYPE vector USING lhv AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_l2_metric(internal);
CREATE OPERATOR CLASS lhv_vector_ip_ops FOR TYPE vector USING lhv AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_ip_metric(internal);
CREATE OPERATOR CLASS lhv_vector_cosine_ops FOR TYPE vector USING lhv AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_cosine_metric(internal);

-- lhvector and vector share their layout and their rules (1 to 16,000
-- finite components), so each converts to the other without a copy; the
-- target's typmod still applies.
CREATE CAST (lhvector AS vector) WITHOUT FUNCTION AS ASSIGNMENT;
CREATE CAST (vector AS lhvector) WITHOUT FUNCTION AS ASSIGNMENT;
