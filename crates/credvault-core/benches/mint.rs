//! One mint per algorithm with a cached (already parsed) key: claims with fresh time claims,
//! JSON, base64url and the signature, as the service does for every token.
//! Also the `jsonwebtoken` crate's `encode` for HS256, the reference of issue 4.
//!
//! `cargo bench -p credvault-core --bench mint`

use credvault_core::jwt::{Algorithm, JwtSettings, PreparedKey};
use credvault_core::keys::parse_private_key;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../credvault/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn payload() -> Map<String, Value> {
    json!({ "iss": "credvault-bench", "sub": "svc", "scope": "read write", "aud": "api" })
        .as_object()
        .unwrap()
        .clone()
}

fn prepared(alg: Algorithm, key: &str) -> PreparedKey {
    let parsed = parse_private_key(alg, key, None).unwrap();
    PreparedKey::new(
        parsed.key,
        JwtSettings {
            algorithm: alg,
            payload: payload(),
            auto_time_claims: true,
            headers: Map::new(),
            rotation_period_seconds: None,
            lifetime_seconds: 3600,
        },
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .cast_signed()
}

fn mints(c: &mut Criterion) {
    let rsa = fixture("rsa2048-pkcs8.pem");
    let cases = [
        (
            Algorithm::HS256,
            "a shared secret of reasonable length!".to_string(),
        ),
        (Algorithm::RS256, rsa.clone()),
        (Algorithm::PS256, rsa),
        (Algorithm::ES256, fixture("ec-p256-pkcs8.pem")),
        (Algorithm::ES384, fixture("ec-p384-pkcs8.pem")),
        (Algorithm::ES512, fixture("ec-p521-pkcs8.pem")),
        (Algorithm::EdDSA, fixture("ed25519-pkcs8.pem")),
    ];
    let mut group = c.benchmark_group("mint");
    for (alg, key) in cases {
        let key = prepared(alg, &key);
        group.bench_function(alg.as_str(), |b| b.iter(|| key.mint(now()).unwrap()));
    }
    group.finish();

    // The reference: jsonwebtoken's encode, HS256, same claims.
    let secret = jsonwebtoken::EncodingKey::from_secret(b"a shared secret of reasonable length!");
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    c.bench_function("jsonwebtoken/HS256", |b| {
        b.iter(|| {
            let mut claims = payload();
            let t = now();
            claims.insert("iat".into(), json!(t));
            claims.insert("exp".into(), json!(t + 3600));
            jsonwebtoken::encode(&header, &claims, &secret).unwrap()
        });
    });
}

criterion_group!(benches, mints);
criterion_main!(benches);
