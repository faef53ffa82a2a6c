//! Request body processors, as ModSecurity defines them: URLENCODED, MULTIPART, JSON, XML.
//!
//! Each processor turns a complete, buffered body into arguments and flags; the transaction
//! decides which processor runs (`Content-Type`, `ctl:requestBodyProcessor`) and maps the
//! results onto variables (`ARGS_POST`, `FILES`, `MULTIPART_*`, `XML`, `REQBODY_ERROR`).
//! Not here: limits on the body size (the transaction enforces them while buffering).

pub mod json;
pub mod multipart;
pub mod urlencoded;
pub mod xml;

/// One name/value pair, as bytes (names and values need not be UTF-8).
pub type Pair = (Vec<u8>, Vec<u8>);
