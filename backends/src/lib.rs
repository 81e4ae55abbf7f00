//! Storage contracts of ampd (metadata store, metrics backend) and their implementations.
