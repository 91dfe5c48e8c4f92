//! `uniffi-bindgen generate --library target/debug/libkehu_ffi.so --language kotlin --out-dir out`
//! (the same uniffi version as the library, so the checksums agree).

fn main() {
    uniffi::uniffi_bindgen_main()
}
