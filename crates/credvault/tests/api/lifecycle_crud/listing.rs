//! API.md §2 pagination and §4.2: reading one credential back, and listing page by page with
//! exact `meta`, with the filters, as who may see what.

use serde_json::{json, Value};

use super::*;

/// A pagination link: the public URL, the path, the request's other query parameters
/// (`query`, each followed by `&`) and `page` last.
fn link(server: &Server, query: &str, page: i64) -> String {
    format!("{}{CREDENTIALS}?{query}page={page}", server.base)
}

/// The exact `meta` of page `page` of `pages`, for a request whose parameters other than
/// `page` are `query`.
#[track_caller]
fn assert_meta(server: &Server, body: &Value, query: &str, page: i64, pages_etc: [i64; 3]) {
    let [per_page, pages, count] = pages_etc;
    let next = (page < pages).then_some(page + 1);
    let want = json!({
        "current_page": link(server, query, page),
        "previous_page": (page > 1).then(|| link(server, query, page - 1)),
        "next_page": next.map(|n| link(server, query, n)),
        "next_page_number": next,
        "per_page": per_page,
        "pages": pages,
        "count": count,
    });
    assert_eq!(body["meta"], want, "page {page} of ?{query}");
}

/// Teams Alpha (a VIEWER `viewer_a`, a folder) and Bravo (an EDITOR `editor_b`), a user in no
/// team, and credentials: 45 in Alpha (every 10th in the folder, every 9th from 4
/// restricted), Bravo's three created after Alpha's 21st (the second restricted), and two
/// test credentials, on Alpha's 6th (attached after its 31st) and on its 41st (in the folder
/// and restricted, attached last, with the highest id). Credentials are as create (or the
/// attach) returned them.
struct Listing {
    server: Server,
    alpha: i64,
    bravo: i64,
    viewer_a: String,
    editor_b: String,
    outsider: String,
    folder_a: i64,
    alpha_creds: Vec<Value>,
    bravo_creds: Vec<Value>,
    alpha_ids: Vec<i64>,
}

async fn create(server: &Server, body: Value) -> Value {
    let (status, created) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn listing() -> Listing {
    let server = Server::start();
    let a = World::new(&server, "Alpha", &[Role::Viewer]).await;
    let (alpha, viewer_a) = (a.team_id, a.viewer_key().to_string());
    let bravo = server.team("Bravo").await;
    let (_, editor_b) = server
        .user("editor-b@example.com", Some((bravo, "EDITOR")))
        .await;
    let (_, outsider) = server.user("outsider@example.com", None).await;
    let folder_a = server.folder(OWNER_KEY, alpha, "Alpha keys").await;
    let (mut alpha_creds, mut bravo_creds) = (Vec::new(), Vec::new());
    for i in 0..45 {
        let mut body = jwt_body(alpha, &format!("alpha {i:02}"));
        if i % 9 == 4 {
            body["allowed_hosts"] = json!(["api.example.com"]);
        }
        if i % 10 == 0 {
            body["folder_id"] = json!(folder_a);
        }
        alpha_creds.push(create(&server, body).await);
        for j in (0..3).filter(|_| i == 20) {
            let mut body = jwt_body(bravo, &format!("bravo {j}"));
            if j == 1 {
                body["allowed_hosts"] = json!(["*.bravo.example"]);
            }
            bravo_creds.push(create(&server, body).await);
        }
        if i == 30 {
            alpha_creds[5] = create(&server, attach_body(id_of(&alpha_creds[5]))).await;
        }
    }
    let attached = create(&server, attach_body(id_of(&alpha_creds[40]))).await;
    assert_eq!(attached["test_credential_enabled"], true);
    alpha_creds[40] = attached;
    let alpha_ids: Vec<i64> = alpha_creds.iter().map(id_of).collect();
    assert!(alpha_ids.windows(2).all(|w| w[0] < w[1]));
    Listing {
        server,
        alpha,
        bravo,
        viewer_a,
        editor_b,
        outsider,
        folder_a,
        alpha_creds,
        bravo_creds,
        alpha_ids,
    }
}

#[tokio::test]
async fn a_credential_reads_back_exactly_as_create_or_attach_returned_it() {
    let l = listing().await;
    let (creds, bravo) = (&l.alpha_creds, &l.bravo_creds);
    for created in [&creds[0], &creds[4], &creds[5], &bravo[1]] {
        let (status, read) = l.server.get(&cred_path(id_of(created)), OWNER_KEY).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(&read, created);
    }
    let (status, read) = l
        .server
        .get(&cred_path(id_of(&creds[7])), &l.viewer_a)
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, creds[7]);
}

#[tokio::test]
async fn pages_come_by_id_with_exact_meta_and_page_last_in_the_links() {
    let l = listing().await;
    let (server, viewer_a) = (&l.server, l.viewer_a.as_str());
    // Pages of 20 as a member of Alpha: 20, 20, 5, by id, each item as create returned it.
    let page1 = list(server, viewer_a, "per_page=20&page=1").await;
    assert_eq!(items(&page1), &l.alpha_creds[0..20].to_vec());
    assert_meta(server, &page1, "per_page=20&", 1, [20, 3, 45]);
    // `page` first in the request: the links still carry it last.
    let page2 = list(server, viewer_a, "page=2&per_page=20").await;
    assert_eq!(items(&page2), &l.alpha_creds[20..40].to_vec());
    assert_meta(server, &page2, "per_page=20&", 2, [20, 3, 45]);
    let page3 = list(server, viewer_a, "per_page=20&page=3").await;
    assert_eq!(items(&page3), &l.alpha_creds[40..45].to_vec());
    assert_meta(server, &page3, "per_page=20&", 3, [20, 3, 45]);
}

#[tokio::test]
async fn without_parameters_a_list_is_page_one_of_twenty() {
    let l = listing().await;
    let default = list(&l.server, &l.viewer_a, "").await;
    assert_eq!(ids(&default), l.alpha_ids[0..20].to_vec());
    assert_meta(&l.server, &default, "", 1, [20, 3, 45]);
    let (status, body) = l.server.get(CREDENTIALS, &l.viewer_a).await;
    assert_eq!(status, 200);
    assert_eq!(body, default);
}

#[tokio::test]
async fn per_page_above_500_is_clamped_and_the_link_keeps_the_requested_value() {
    let l = listing().await;
    let clamped = list(&l.server, &l.viewer_a, "per_page=1000").await;
    assert_eq!(ids(&clamped), l.alpha_ids);
    assert_meta(&l.server, &clamped, "per_page=1000&", 1, [500, 1, 45]);
}

#[tokio::test]
async fn bad_page_parameters_are_422_and_a_page_past_the_end_is_empty() {
    let l = listing().await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=-1&per_page=20", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
    ] {
        let (status, body) = l
            .server
            .get(&format!("{CREDENTIALS}?{query}"), &l.viewer_a)
            .await;
        assert_error(status, &body, 422, Some(field), field);
    }
    let past = list(&l.server, &l.viewer_a, "per_page=20&page=9").await;
    assert_eq!(items(&past), &Vec::<Value>::new());
    let meta = &past["meta"];
    assert_eq!(meta["current_page"], link(&l.server, "per_page=20&", 9));
    assert_eq!(meta["next_page"], Value::Null);
    assert_eq!(meta["next_page_number"], Value::Null);
    assert_eq!(meta["per_page"], 20);
    assert_eq!(meta["pages"], 3);
    assert_eq!(meta["count"], 45);
}

#[tokio::test]
async fn the_team_filter_keeps_its_place_in_the_links_and_needs_a_visible_team() {
    let l = listing().await;
    let (server, alpha, bravo) = (&l.server, l.alpha, l.bravo);
    let by_team = list(
        server,
        OWNER_KEY,
        &format!("team_id={alpha}&per_page=20&page=3"),
    )
    .await;
    assert_eq!(ids(&by_team), l.alpha_ids[40..45].to_vec());
    let query = format!("team_id={alpha}&per_page=20&");
    assert_meta(server, &by_team, &query, 3, [20, 3, 45]);
    let bravo_only = list(server, OWNER_KEY, &format!("team_id={bravo}")).await;
    assert_eq!(items(&bravo_only), &l.bravo_creds);
    assert_eq!(bravo_only["meta"]["count"], 3);
    for (query, key) in [
        (format!("team_id={bravo}"), l.viewer_a.as_str()),
        ("team_id=999999".to_string(), OWNER_KEY),
    ] {
        let (status, body) = server.get(&format!("{CREDENTIALS}?{query}"), key).await;
        assert_error(status, &body, 404, None, "not found");
    }
    let (status, body) = server
        .get(&format!("{CREDENTIALS}?team_id=abc"), OWNER_KEY)
        .await;
    assert_error(status, &body, 422, Some("team_id"), "team_id");
}

#[tokio::test]
async fn the_folder_filter_lists_the_folders_credentials() {
    let l = listing().await;
    let query = format!("folder_id={}", l.folder_a);
    let in_folder = list(&l.server, &l.viewer_a, &query).await;
    assert_eq!(
        ids(&in_folder),
        [0, 10, 20, 30, 40].map(|i| l.alpha_ids[i]).to_vec()
    );
    assert_eq!(in_folder["meta"]["count"], 5);
}

#[tokio::test]
async fn the_restricted_and_unrestricted_filters_split_by_allowed_hosts() {
    let l = listing().await;
    let (server, viewer_a) = (&l.server, l.viewer_a.as_str());
    let restricted_ids = [4, 13, 22, 31, 40].map(|i| l.alpha_ids[i]).to_vec();
    let restricted = list(server, viewer_a, "filter=RESTRICTED&per_page=100").await;
    assert_eq!(ids(&restricted), restricted_ids);
    assert!(items(&restricted)
        .iter()
        .all(|c| c["restriction_type"] == "RESTRICTED" && c["allowed_hosts"] != json!([])));
    let restricted_p2 = list(server, viewer_a, "filter=RESTRICTED&per_page=2&page=2").await;
    assert_eq!(ids(&restricted_p2), restricted_ids[2..4].to_vec());
    let query = "filter=RESTRICTED&per_page=2&";
    assert_meta(server, &restricted_p2, query, 2, [2, 3, 5]);

    let unrestricted = list(server, viewer_a, "filter=UNRESTRICTED&per_page=100").await;
    let want: Vec<i64> = l
        .alpha_ids
        .iter()
        .copied()
        .filter(|id| !restricted_ids.contains(id))
        .collect();
    assert_eq!(ids(&unrestricted), want);
    assert_eq!(unrestricted["meta"]["count"], 40);
    assert!(items(&unrestricted)
        .iter()
        .all(|c| c["restriction_type"] == "UNRESTRICTED" && c["allowed_hosts"] == json!([])));
}

#[tokio::test]
async fn filters_combine_and_an_unknown_filter_is_422() {
    let l = listing().await;
    // Nothing has been minted yet: every credential is unused.
    let unused = list(
        &l.server,
        &l.viewer_a,
        "filter=UNUSED_IN_ACTIONS&per_page=100",
    )
    .await;
    assert_eq!(ids(&unused), l.alpha_ids);
    assert_eq!(unused["meta"]["count"], 45);
    let path = format!("{CREDENTIALS}?filter=BOGUS");
    let (status, body) = l.server.get(&path, &l.viewer_a).await;
    assert_error(status, &body, 422, Some("filter"), "filter");
    let query = format!("folder_id={}&filter=RESTRICTED", l.folder_a);
    let both = list(&l.server, &l.viewer_a, &query).await;
    assert_eq!(ids(&both), vec![l.alpha_ids[40]]);
    let query = format!("team_id={}&filter=RESTRICTED", l.bravo);
    let bravo_restricted = list(&l.server, OWNER_KEY, &query).await;
    assert_eq!(ids(&bravo_restricted), vec![id_of(&l.bravo_creds[1])]);
}

/// Every listed credential of both teams, by id.
fn all_listed(l: &Listing) -> Vec<Value> {
    let mut all: Vec<Value> = l
        .alpha_creds
        .iter()
        .chain(&l.bravo_creds)
        .cloned()
        .collect();
    all.sort_by_key(id_of);
    all
}

#[tokio::test]
async fn the_tenant_admin_sees_every_team_and_members_only_their_own() {
    let l = listing().await;
    let all = list(&l.server, OWNER_KEY, "per_page=100").await;
    assert_eq!(items(&all), &all_listed(&l));
    assert_meta(&l.server, &all, "per_page=100&", 1, [100, 1, 48]);
    let as_bravo = list(&l.server, &l.editor_b, "").await;
    assert_eq!(items(&as_bravo), &l.bravo_creds);
    assert_eq!(as_bravo["meta"]["count"], 3);
    let as_outsider = list(&l.server, &l.outsider, "").await;
    assert_eq!(items(&as_outsider), &Vec::<Value>::new());
    assert_eq!(as_outsider["meta"]["count"], 0);
    let path = cred_path(id_of(&l.bravo_creds[0]));
    let (status, body) = l.server.get(&path, &l.viewer_a).await;
    assert_error(status, &body, 404, None, "not found");
}

#[tokio::test]
async fn test_credentials_hold_ids_but_are_neither_listed_nor_readable() {
    let l = listing().await;
    // Above: 45 and 48 listed, though 50 ids were taken.
    let listed: Vec<i64> = all_listed(&l).iter().map(id_of).collect();
    let hidden: Vec<i64> = (1..=*listed.iter().max().unwrap() + 1)
        .filter(|id| !listed.contains(id))
        .collect();
    assert_eq!(hidden.len(), 2, "listed {listed:?}");
    for id in hidden {
        let (status, body) = l.server.get(&cred_path(id), OWNER_KEY).await;
        assert_error(status, &body, 404, None, "not found");
    }
}
#[tokio::test]
async fn a_page_number_at_the_integer_limit_is_an_empty_page() {
    let server = Server::start();
    let team = server.team("Limits").await;
    for i in 0..3 {
        let (status, body) = server
            .create_credential(OWNER_KEY, jwt_body(team, &format!("cred {i}")))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    for query in [
        format!("page={}", i64::MAX),
        format!("per_page=500&page={}", i64::MAX),
    ] {
        let body = list(&server, OWNER_KEY, &query).await;
        assert_eq!(items(&body), &Vec::<Value>::new());
        let meta = &body["meta"];
        assert_eq!(meta["count"], 3, "{body}");
        assert_eq!(meta["pages"], 1, "{body}");
        assert_eq!(meta["next_page"], Value::Null, "{body}");
        assert_eq!(meta["next_page_number"], Value::Null, "{body}");
    }
}
