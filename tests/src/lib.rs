//! Conformance runners for Wafer.
