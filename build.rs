// The wasm's stack: 64 KB instead of rustc's default 1 MB, which was most of the wasm's
// memory (1,179,648 bytes after ready(), against 196,608 now). The deepest use is the
// JSON reader at its nesting limit (protocol::json, 64 levels): it traps with an 8 KB
// stack and fits in 16 KB, measured; test-types checks it through the package. The
// stack sits below the data (rustc's --stack-first), so an overflow traps instead of
// overwriting memory.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=65536");
    }
}
