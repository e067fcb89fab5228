//! Integration tests of the `mandel` binary: one test binary, as cargo builds each file in
//! `tests/` as its own crate.

mod util;

mod bench;
mod cli_errors;
mod deep;
mod exactness;
mod formats;
mod pictures;
mod process_pool;
mod serve;
mod shards;
