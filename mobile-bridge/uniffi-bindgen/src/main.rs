//! `uniffi-bindgen`, pinned to the bridge's UniFFI version. See `mobile-bridge/README.md`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
