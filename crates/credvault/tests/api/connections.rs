//! Connection hygiene (API.md §12): header, body and idle timeouts, the connection cap, file modes.
