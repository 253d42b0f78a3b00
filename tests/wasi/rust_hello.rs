// rust_hello.rs - a Rust program for wasm32-wasi (Rust's std over WASI):
// prints its arguments and environment, then the contents of the file
// named by its first argument, which lives in a preopened directory.
//
//   wasmctl run --dir DIR::/data --env GREETING=hi rust_hello.wasm /data/hello.txt
//     arg rust_hello.wasm
//     arg /data/hello.txt
//     env GREETING=hi
//     file: <the file's contents>
use std::env;
use std::fs;
use std::process;

fn main() {
    let args: Vec<String> = env::args().collect();
    for a in &args {
        println!("arg {}", a);
    }
    for (k, v) in env::vars() {
        println!("env {}={}", k, v);
    }
    let path = match args.get(1) {
        Some(p) => p,
        None => process::exit(2),
    };
    match fs::read_to_string(path) {
        Ok(text) => print!("file: {}", text),
        Err(e) => {
            eprintln!("rust_hello: {}: {}", path, e);
            process::exit(3);
        }
    }
}
