//! PromQL: lexer, parser with source positions, printer and evaluation engine over a Queryable.
