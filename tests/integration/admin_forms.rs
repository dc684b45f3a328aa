//! Helpers the admin-area tests share: a page read as a browser without JavaScript (with the
//! `csrf` cookie and form token it hands out), a form posted the same way, and a CSV export
//! opened with the `csv` crate.

use lpsaring_tests::{TestApp, set_cookie};

use crate::web::client;

/// A page as the browser holding `cookies` sees it.
pub(crate) struct FormPage {
    pub status: u16,
    pub html: String,
    /// `cookies` plus the `csrf` cookie the page set, for the forms it holds.
    pub cookies: String,
    /// The hidden `csrf` field of the page's first form (empty when it has none).
    pub token: String,
}

pub(crate) async fn form_page(app: &TestApp, path: &str, cookies: &str) -> FormPage {
    let res = client()
        .get(app.url(path))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let cookies = match set_cookie(&res, "csrf") {
        Some(csrf) => format!("{cookies}; csrf={csrf}"),
        None => cookies.to_owned(),
    };
    let html = res.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let token = html
        .find(marker)
        .map(|at| {
            html[at + marker.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .unwrap_or_default();
    FormPage {
        status,
        html,
        cookies,
        token,
    }
}

/// A form posted as that browser (no Origin header): status, `Location` (or empty) and body.
pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    cookies: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let res = client()
        .post(app.url(path))
        .header("cookie", cookies)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let to = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, to, res.text().await.unwrap_or_default())
}

/// `path` downloaded with `bearer` and parsed: its header and its rows. Checks the download
/// is a CSV attachment (`….csv`).
pub(crate) async fn csv_of(
    app: &TestApp,
    path: &str,
    bearer: &str,
) -> (Vec<String>, Vec<csv::StringRecord>) {
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/csv"), "{path}: {kind}");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=") && disposition.contains(".csv"),
        "{path}: {disposition}"
    );
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}
