//! Embedded time-series storage: WAL, head, compressed chunks, blocks, postings index, retention.
