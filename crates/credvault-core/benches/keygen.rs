//! Generating a key (API.md §6: `jwt_generate_key`, rotation): one per algorithm and RSA size,
//! as a create or rotation does on the key-work pool. RSA generation searches for primes, so
//! its time varies from key to key; the samples are few and the spread is wide.
//!
//! `cargo bench -p credvault-core --bench keygen`

use std::time::Duration;

use credvault_core::jwt::Algorithm;
use credvault_core::keys::generate_key;
use criterion::{criterion_group, criterion_main, Criterion};

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let cases = [
        ("RSA-2048", Algorithm::RS256, 2048),
        ("RSA-3072", Algorithm::RS256, 3072),
        ("RSA-4096", Algorithm::RS256, 4096),
        ("P-256", Algorithm::ES256, 0),
        ("P-384", Algorithm::ES384, 0),
        ("P-521", Algorithm::ES512, 0),
        ("Ed25519", Algorithm::EdDSA, 0),
    ];
    for (name, alg, bits) in cases {
        group.bench_function(name, |b| b.iter(|| generate_key(alg, bits).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
