//! The HTTP client of the command line: a thin layer over reqwest that sends the API key,
//! and turns the API's error body into [`CliError::Api`].

use reqwest::Method;
use serde_json::Value;

use super::config::Target;
use super::CliError;

pub struct Client {
    http: reqwest::Client,
    target: Target,
}

impl Client {
    pub fn new(target: Target) -> Client {
        Client {
            http: reqwest::Client::builder()
                .user_agent(concat!("credvault-cli/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a client with defaults builds"),
            target,
        }
    }

    /// Sends a request to `/api/v1{path}` and returns the JSON answer (Null for none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let url = format!("{}/api/v1{path}", self.target.url);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(self.target.api_key.as_str());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| CliError::Connect {
            url: self.target.url.clone(),
            reason: e.to_string(),
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| CliError::Connect {
            url: self.target.url.clone(),
            reason: e.to_string(),
        })?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(body);
        }
        let error = &body["errors"][0];
        Err(CliError::Api {
            status: status.as_u16(),
            message: error["message"]
                .as_str()
                .map_or_else(|| format!("the server answered {status}"), str::to_string),
            field: error["field"].as_str().map(str::to_string),
        })
    }

    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(Method::POST, path, Some(body)).await
    }
}
