//! The session cookies: `auth_token` (access JWT) and `refresh_token`, both HttpOnly,
//! SameSite=Lax, Path=/, and Secure when the client reached us over HTTPS.

use lpsaring_kernel::web::session_cookie;
use salvo::Response;

use super::service::{IssuedSession, Sessions};

pub const ACCESS_COOKIE: &str = "auth_token";
pub const REFRESH_COOKIE: &str = "refresh_token";

impl Sessions {
    /// Writes the access cookie, and the refresh cookie when one was minted.
    pub fn set_cookies(&self, res: &mut Response, session: &IssuedSession, secure: bool) {
        let now = self.clock.now();
        res.add_cookie(session_cookie(
            ACCESS_COOKIE,
            session.access_token.expose().clone(),
            (session.access_expires_at - now).num_seconds(),
            secure,
        ));
        if let (Some(token), Some(expires)) = (&session.refresh_token, session.refresh_expires_at) {
            res.add_cookie(session_cookie(
                REFRESH_COOKIE,
                token.expose().clone(),
                (expires - now).num_seconds(),
                secure,
            ));
        }
        if let Some(lang) = session.language {
            res.add_cookie(lang.cookie());
        }
    }

    /// The origin/CSRF middleware for the whole service, configured with our origins, the form
    /// token key and the cookies that make a request cookie-authenticated.
    pub fn csrf(&self) -> lpsaring_kernel::web::Csrf {
        lpsaring_kernel::web::Csrf::new(
            self.origins.clone(),
            self.csrf_key,
            &[ACCESS_COOKIE, REFRESH_COOKIE],
        )
    }

    /// Expires both cookies in the browser.
    pub fn clear_cookies(res: &mut Response, secure: bool) {
        for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
            res.add_cookie(session_cookie(name, String::new(), 0, secure));
        }
    }
}
