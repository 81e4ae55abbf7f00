//! HTTP front of ampd: routers per AWS protocol, the auth/audit middleware stack, and the ampd binary.
