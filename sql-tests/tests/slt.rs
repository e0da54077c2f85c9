//! `cargo test` entry point: runs every `.slt` file in `sql-tests/slt/` against a Rust
//! `SessionContext` with ltseq installed. Labels: `rust` (so a file can say `onlyif rust`).

use ltseq_sql_tests::{new_db, slt_files};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in slt_files().expect("list sql-tests/slt") {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if let Some(f) = &filter {
            if !name.contains(f.as_str()) {
                continue;
            }
        }
        ran += 1;
        let result = runtime.block_on(async {
            let mut runner = sqllogictest::Runner::new(|| async {
                new_db().map_err(ltseq_sql_tests::SltError::from)
            });
            runner.add_label("rust");
            runner.run_file_async(&file).await
        });
        match result {
            Ok(()) => println!("ok   {name}"),
            Err(e) => {
                println!("FAIL {name}\n{e}\n");
                failures.push(name);
            }
        }
    }
    println!("{ran} .slt files, {} failed", failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
