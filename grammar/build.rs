#![allow(clippy::expect_used)] // A broken grammar stops the build with its message.
fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process()
        .expect("grammar");
}
