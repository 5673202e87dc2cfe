//! What an attacker tried against the web edge (issue 19): redirects after
//! sign-in, cross-origin forms, framing, definition names, query-string
//! errors and the OpenAPI document, small overflows.

use std::time::Duration;

use crate::harness::{Server, ADMIN_TOKEN};

fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn sign_in(server: &Server, next: &str) -> reqwest::blocking::Response {
    no_redirects()
        .post(server.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}&next={next}"))
        .send()
        .expect("sign in")
}

#[test]
fn sign_in_returns_only_to_paths_on_this_server() {
    let server = Server::start();
    for next in [
        "/%09/evil.example",
        "/%0A",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%0D%0ASet-Cookie:%20x=1",
    ] {
        let response = sign_in(&server, next);
        assert_eq!(response.status().as_u16(), 303, "next={next}");
        assert_eq!(response.headers()["location"], "/", "next={next}");
    }
    let response = sign_in(&server, "/segments/demo_requesters%3Fx%3D1");
    assert_eq!(
        response.headers()["location"],
        "/segments/demo_requesters?x=1"
    );
    let page = no_redirects()
        .get(server.url("/signin?next=/%0A"))
        .send()
        .expect("get");
    assert_eq!(page.status().as_u16(), 200);
}
