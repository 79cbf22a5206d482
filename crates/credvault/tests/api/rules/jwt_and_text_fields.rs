//! API.md §4.1: the rules of the JWT fields and of the TEXT `value`.

use serde_json::{json, Value};

use super::*;
use crate::support::*;

#[tokio::test]
async fn create_credential_jwt_field_rules() {
    let server = Server::in_process().await;
    let team = server.team("Rules Jwt").await;
    let rsa = fixture_key("rsa2048-pkcs8.pem");
    let k = OWNER_KEY;
    #[rustfmt::skip]
    let cases = vec![
        // jwt_algorithm
        case("jwt_algorithm missing", k, vec![Remove("jwt_algorithm")], err(422, Some("jwt_algorithm"), "required")),
        case("jwt_algorithm none", k, vec![Set("jwt_algorithm", json!("none"))], err(422, Some("jwt_algorithm"), "EdDSA")),
        case("jwt_algorithm ES256K", k, vec![Set("jwt_algorithm", json!("ES256K"))], err(422, Some("jwt_algorithm"), "EdDSA")),
        case("jwt_algorithm lists names", k, vec![Set("jwt_algorithm", json!("HS1"))], err(422, Some("jwt_algorithm"), "HS256, HS384, HS512, RS256")),
        case("jwt_algorithm not a string", k, vec![Set("jwt_algorithm", json!(256))], err(422, Some("jwt_algorithm"), "string")),
        case("jwt_algorithm rsa256", k, vec![Set("jwt_algorithm", json!("rsa256")), Set("jwt_private_key", json!(rsa))], ok(201, vec![("jwt_algorithm", json!("RS256"))])),
        case("jwt_algorithm rs256", k, vec![Set("jwt_algorithm", json!("rs256")), Set("jwt_private_key", json!(rsa))], ok(201, vec![("jwt_algorithm", json!("RS256"))])),
        case("jwt_algorithm eddsa", k, vec![Set("jwt_algorithm", json!("eddsa")), Set("jwt_private_key", json!(fixture_key("ed25519-pkcs8.pem")))], ok(201, vec![("jwt_algorithm", json!("EdDSA"))])),
        // jwt_payload
        case("jwt_payload an array", k, vec![Set("jwt_payload", json!([1, 2]))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload a number", k, vec![Set("jwt_payload", json!(42))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload a boolean", k, vec![Set("jwt_payload", json!(true))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload invalid JSON text", k, vec![Set("jwt_payload", json!("{not json"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of an array", k, vec![Set("jwt_payload", json!("[1, 2]"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of a number", k, vec![Set("jwt_payload", json!("7"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of an object", k, vec![Set("jwt_payload", json!("{\"sub\":\"abc\",\"n\":1}"))], ok(201, vec![("jwt_payload", json!({"sub": "abc", "n": 1}))])),
        case("jwt_payload an object", k, vec![Set("jwt_payload", json!({"iss": "x", "aud": ["a", "b"]}))], ok(201, vec![("jwt_payload", json!({"iss": "x", "aud": ["a", "b"]}))])),
        case("jwt_payload absent", k, vec![Remove("jwt_payload")], ok(201, vec![("jwt_payload", json!({}))])),
        // jwt_auto_generate_time_claims
        case("jwt_auto_generate_time_claims a string", k, vec![Set("jwt_auto_generate_time_claims", json!("true"))], err(422, Some("jwt_auto_generate_time_claims"), "true or false")),
        case("jwt_auto_generate_time_claims a number", k, vec![Set("jwt_auto_generate_time_claims", json!(1))], err(422, Some("jwt_auto_generate_time_claims"), "true or false")),
        case("jwt_auto_generate_time_claims true", k, vec![Set("jwt_auto_generate_time_claims", json!(true))], ok(201, vec![("jwt_auto_generate_time_claims", json!(true))])),
        // jwt_headers
        case("jwt_headers a string", k, vec![Set("jwt_headers", json!("kid"))], err(422, Some("jwt_headers"), "JSON object")),
        case("jwt_headers an array", k, vec![Set("jwt_headers", json!([["kid", "k1"]]))], err(422, Some("jwt_headers"), "JSON object")),
        case("jwt_headers with alg", k, vec![Set("jwt_headers", json!({"alg": "none", "kid": "k1"}))], err(422, Some("jwt_headers"), "alg")),
        case("jwt_headers with kid", k, vec![Set("jwt_headers", json!({"kid": "k1"}))], ok(201, vec![("jwt_headers", json!({"kid": "k1"}))])),
        // jwt_lifetime_seconds
        case("jwt_lifetime_seconds 0", k, vec![Set("jwt_lifetime_seconds", json!(0))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds negative", k, vec![Set("jwt_lifetime_seconds", json!(-5))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds 86401", k, vec![Set("jwt_lifetime_seconds", json!(86_401))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds text", k, vec![Set("jwt_lifetime_seconds", json!("abc"))], err(422, Some("jwt_lifetime_seconds"), "integer")),
        case("jwt_lifetime_seconds fraction", k, vec![Set("jwt_lifetime_seconds", json!(1.5))], err(422, Some("jwt_lifetime_seconds"), "integer")),
        case("jwt_lifetime_seconds 1", k, vec![Set("jwt_lifetime_seconds", json!(1))], ok(201, vec![("jwt_lifetime_seconds", json!(1))])),
        case("jwt_lifetime_seconds 86400", k, vec![Set("jwt_lifetime_seconds", json!(86_400))], ok(201, vec![("jwt_lifetime_seconds", json!(86_400))])),
        // jwt_private_key
        case("jwt_private_key missing", k, vec![Remove("jwt_private_key")], err(422, Some("jwt_private_key"), "required")),
        case("jwt_private_key empty", k, vec![Set("jwt_private_key", json!(""))], err(422, Some("jwt_private_key"), "empty")),
        case("jwt_private_key not a string", k, vec![Set("jwt_private_key", json!({"kty": 1}))], err(422, Some("jwt_private_key"), "string")),
        case("jwt_private_key garbage", k, vec![Set("jwt_private_key", json!("this is not a key at all"))], err(422, Some("jwt_private_key"), "jwt_private_key")),
        case("jwt_private_key a public key", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p256-pub.pem")))], err(422, Some("jwt_private_key"), "public")),
        case("jwt_private_key RSA for ES256", k, vec![Set("jwt_private_key", json!(rsa))], err(422, Some("jwt_private_key"), "ES256")),
        case("jwt_private_key P-384 for ES256", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p384-pkcs8.pem")))], err(422, Some("jwt_private_key"), "ES256")),
        case("jwt_private_key RSA of 1024 bits", k, vec![Set("jwt_algorithm", json!("RS256")), Set("jwt_private_key", json!(fixture_key("rsa1024-pkcs8.pem")))], err(422, Some("jwt_private_key"), "2048")),
        case("jwt_private_key encrypted, no passphrase", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p256-encrypted.pem")))], err(422, Some("jwt_private_key"), "passphrase")),
        case("HS256 with a plain secret", k, vec![Set("jwt_algorithm", json!("HS256")), Set("jwt_private_key", json!("a plain shared secret"))], ok(201, vec![("jwt_algorithm", json!("HS256"))])),
        case(
            "JWT defaults",
            k,
            vec![],
            ok(
                201,
                vec![
                    ("mode", json!("JWT")),
                    ("jwt_algorithm", json!("ES256")),
                    ("jwt_payload", json!({"iss": "credvault-tests"})),
                    ("jwt_auto_generate_time_claims", json!(false)),
                    ("jwt_headers", json!({})),
                    ("jwt_lifetime_seconds", json!(3600)),
                ],
            ),
        ),
    ];
    run_create_cases(&server, |name| jwt_body(team, name), cases).await;
}

#[tokio::test]
async fn create_credential_text_rules() {
    let server = Server::in_process().await;
    let team = server.team("Rules Text").await;
    let k = OWNER_KEY;
    #[rustfmt::skip]
    let cases = vec![
        case("value missing", k, vec![Remove("value")], err(422, Some("value"), "required")),
        case("value null", k, vec![Set("value", Value::Null)], err(422, Some("value"), "required")),
        case("value empty", k, vec![Set("value", json!(""))], err(422, Some("value"), "empty")),
        case("value a number", k, vec![Set("value", json!(12345))], err(422, Some("value"), "string")),
        case("value an object", k, vec![Set("value", json!({"a": 1}))], err(422, Some("value"), "string")),
        case("value valid", k, vec![], ok(201, vec![("mode", json!("TEXT")), ("team_id", json!(team)), ("restriction_type", json!("UNRESTRICTED"))])),
    ];
    let base = |name: &str| json!({ "name": name, "mode": "TEXT", "team_id": team, "value": "s3cret-text-value" });
    run_create_cases(&server, base, cases).await;
}
