//! The Dobush server binary. The server itself is built under issue 3.

fn main() {
    println!("dobush-server {}", env!("CARGO_PKG_VERSION"));
}
