//! The FHIR server: reads and searches over the embedded fixtures, guarded by
//! bearer tokens and SMART scopes.

pub mod fixtures;
