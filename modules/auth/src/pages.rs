//! Server-rendered captive and login pages: small, usable without JavaScript, Indonesian first.

use lpsaring_kernel::ports::access::AccessStatus;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

/// Texts of the login pages, resolved for one language.
pub struct LoginTexts {
    pub title: &'static str,
    pub phone_label: &'static str,
    pub phone_hint: &'static str,
    pub send_code: &'static str,
    pub code_sent_to: &'static str,
    pub code_label: &'static str,
    pub attempts_left: &'static str,
    pub verify: &'static str,
    pub resend: &'static str,
    pub resend_wait: &'static str,
    pub takeover: &'static str,
    pub no_account: &'static str,
    pub register: &'static str,
    pub voucher_title: &'static str,
    pub voucher_label: &'static str,
    pub voucher_hint: &'static str,
    pub voucher_submit: &'static str,
}

impl LoginTexts {
    pub fn new(lang: Lang, captive: bool) -> Self {
        const TITLE_CAPTIVE: Text = Text::new("Masuk ke Wi-Fi", "Connect to the Wi-Fi");
        const TITLE_LOGIN: Text = Text::new("Masuk", "Log in");
        let t = |text: Text| text.get(lang);
        Self {
            title: t(if captive { TITLE_CAPTIVE } else { TITLE_LOGIN }),
            phone_label: t(Text::new("Nomor WhatsApp", "WhatsApp number")),
            phone_hint: t(Text::new(
                "Kami kirim kode 6 angka lewat WhatsApp.",
                "We send a 6-digit code over WhatsApp.",
            )),
            send_code: t(Text::new("Kirim kode", "Send code")),
            code_sent_to: t(Text::new("Kode dikirim ke", "Code sent to")),
            code_label: t(Text::new("Kode 6 angka", "6-digit code")),
            attempts_left: t(Text::new("Sisa percobaan", "Attempts left")),
            verify: t(Text::new("Masuk", "Log in")),
            resend: t(Text::new("Kirim ulang kode", "Send the code again")),
            resend_wait: t(Text::new("tunggu", "wait")),
            takeover: t(Text::new(
                "Perangkat ini terdaftar di akun lain. Pindahkan ke akun saya.",
                "This device is registered to another account. Move it to mine.",
            )),
            no_account: t(Text::new("Belum punya akun?", "No account yet?")),
            register: t(Text::new("Daftar", "Register")),
            voucher_title: t(Text::new("Saya punya voucher", "I have a voucher")),
            voucher_label: t(Text::new("Kode voucher", "Voucher code")),
            voucher_hint: t(Text::new(
                "Tanpa WhatsApp: cukup kode voucher. Kode yang sama bisa dipakai lagi untuk masuk.",
                "No WhatsApp needed: the voucher code alone. The same code logs you in again later.",
            )),
            voucher_submit: t(Text::new("Masuk dengan voucher", "Log in with the voucher")),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "captive/login.stpl")]
pub struct LoginView<'a> {
    pub t: LoginTexts,
    pub action_base: &'a str,
    pub csrf: &'a str,
    pub hidden: Vec<(&'static str, String)>,
    pub phone: &'a str,
    pub step_code: bool,
    pub sent_to: String,
    pub info: Option<String>,
    pub error: Option<String>,
    pub resend_after_secs: u64,
    pub attempts_left: Option<u32>,
    pub ask_takeover: bool,
    /// The voucher form: the code typed (kept after an error) and whether it is unfolded.
    pub voucher_code: &'a str,
    pub voucher_open: bool,
}

pub struct ConnectedTexts {
    pub title: &'static str,
    pub body: &'static str,
    /// What to do about a status that keeps the user offline or slowed.
    pub action: Option<&'static str>,
    /// Whether the page may say the device is online (the `ok` style).
    pub online: bool,
    pub continue_label: &'static str,
    pub hotspot_hint: &'static str,
    pub hotspot_button: &'static str,
    pub status_link: &'static str,
    pub buy: &'static str,
    pub open_account: &'static str,
    pub open_account_hint: &'static str,
}

impl ConnectedTexts {
    /// Texts for a user in `status`; `None` when no session says who is asking (a bookmark):
    /// the page then says only that the login went through, never "connected to the internet".
    pub fn new(lang: Lang, status: Option<AccessStatus>) -> Self {
        let t = |text: Text| text.get(lang);
        let (title, body, action, online) = match status {
            Some(AccessStatus::Ok | AccessStatus::Unlimited) => (
                Text::new("Terhubung", "Connected"),
                Text::new(
                    "Perangkat Anda sudah terhubung ke internet.",
                    "Your device is connected to the internet.",
                ),
                None,
                true,
            ),
            Some(other) => {
                // The policy page's words: what the status means and what to do.
                let (title, body, action) = status_texts(other).unwrap_or((
                    Text::new("Masuk selesai", "Logged in"),
                    Text::new("Anda sudah masuk.", "You are logged in."),
                    Text::new("", ""),
                ));
                (title, body, Some(action), other == AccessStatus::Fup)
            }
            None => (
                Text::new("Masuk selesai", "Logged in"),
                Text::new("Anda sudah masuk.", "You are logged in."),
                None,
                false,
            ),
        };
        Self {
            title: t(title),
            body: t(body),
            action: action.map(t).filter(|a| !a.is_empty()),
            online,
            continue_label: t(Text::new("Lanjutkan", "Continue")),
            hotspot_hint: t(Text::new(
                "Sebentar, menyelesaikan masuk ke hotspot…",
                "One moment, finishing the hotspot login…",
            )),
            hotspot_button: t(Text::new("Selesaikan masuk", "Finish logging in")),
            status_link: t(Text::new(
                "Apa artinya dan apa yang harus dilakukan",
                "What this means and what to do",
            )),
            buy: t(BUY),
            open_account: t(Text::new(
                "Buka akun saya di browser",
                "Open my account in the browser",
            )),
            open_account_hint: t(Text::new(
                "Tautan ini berlaku 2 menit dan hanya sekali.",
                "This link works once, for 2 minutes.",
            )),
        }
    }
}

/// The form MikroTik expects at `link-login-only`.
pub struct HotspotForm {
    pub action: String,
    pub username: String,
    pub password: String,
    pub dst: Option<String>,
}

#[derive(TemplateSimple)]
#[template(path = "captive/connected.stpl")]
pub struct ConnectedView {
    pub t: ConnectedTexts,
    pub hotspot: Option<HotspotForm>,
    pub continue_to: Option<String>,
    pub status_path: Option<String>,
    /// The package shop, for a status a purchase ends (habis, expired, fup).
    pub buy_path: Option<&'static str>,
    /// The hand-off link right after a login (the captive window keeps no cookies).
    pub account_url: Option<String>,
}

const BUY: Text = Text::new("Beli paket", "Buy a package");
/// The purchase pages (the payments module's).
pub const SHOP_PATH: &str = "/paket";

/// Whether buying a package gets a user in `status` back to full speed.
pub fn purchase_helps(status: AccessStatus) -> bool {
    matches!(
        status,
        AccessStatus::Habis | AccessStatus::Expired | AccessStatus::Fup
    )
}

pub struct RegisterTexts {
    pub title: &'static str,
    pub name_label: &'static str,
    pub phone_label: &'static str,
    pub submit: &'static str,
    pub back: &'static str,
}

impl RegisterTexts {
    pub fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Daftar", "Register")),
            name_label: t(Text::new("Nama lengkap", "Full name")),
            phone_label: t(Text::new("Nomor WhatsApp", "WhatsApp number")),
            submit: t(Text::new("Daftar", "Register")),
            back: t(Text::new(
                "Sudah punya akun? Masuk",
                "Have an account? Log in",
            )),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "captive/register.stpl")]
pub struct RegisterView<'a> {
    pub t: RegisterTexts,
    pub csrf: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub info: Option<String>,
    pub error: Option<String>,
    pub done: bool,
}

pub const REGISTERED: Text = Text::new(
    "Pendaftaran diterima. Anda bisa masuk setelah operator menyetujui akun Anda.",
    "Registration received. You can log in once the operator approves your account.",
);

#[derive(TemplateSimple)]
#[template(path = "captive/policy.stpl")]
struct PolicyView {
    title: &'static str,
    body: &'static str,
    action: &'static str,
    login: &'static str,
    buy: Option<(&'static str, &'static str)>,
}

/// Title, meaning and what to do for a status that is not plain `ok`; shared by the policy pages
/// and the connected page so both say the same.
fn status_texts(status: AccessStatus) -> Option<(Text, Text, Text)> {
    Some(match status {
        AccessStatus::Blocked => (
            Text::new("Akun diblokir", "Account blocked"),
            Text::new(
                "Akses internet akun Anda diblokir oleh operator.",
                "The operator has blocked internet access for your account.",
            ),
            Text::new(
                "Hubungi operator untuk informasi lebih lanjut.",
                "Contact the operator for details.",
            ),
        ),
        AccessStatus::Inactive => (
            Text::new("Akun belum aktif", "Account not active"),
            Text::new(
                "Akun Anda belum disetujui atau sedang dinonaktifkan.",
                "Your account is not approved yet or has been deactivated.",
            ),
            Text::new(
                "Tunggu persetujuan atau hubungi operator.",
                "Wait for approval or contact the operator.",
            ),
        ),
        AccessStatus::Expired => (
            Text::new("Masa aktif habis", "Validity expired"),
            Text::new(
                "Masa aktif paket Anda sudah berakhir.",
                "Your package's validity period has ended.",
            ),
            Text::new(
                "Beli paket baru untuk terhubung lagi.",
                "Buy a new package to get back online.",
            ),
        ),
        AccessStatus::Habis => (
            Text::new("Kuota habis", "Quota used up"),
            Text::new(
                "Kuota internet Anda sudah habis.",
                "You have used up your data quota.",
            ),
            Text::new(
                "Beli paket untuk menambah kuota.",
                "Buy a package to add quota.",
            ),
        ),
        AccessStatus::Fup => (
            Text::new("Kecepatan dibatasi", "Speed limited"),
            Text::new(
                "Sisa kuota Anda sedikit, jadi kecepatan dibatasi (FUP).",
                "Little quota remains, so your speed is limited (fair use).",
            ),
            Text::new(
                "Beli paket untuk kecepatan penuh.",
                "Buy a package for full speed.",
            ),
        ),
        AccessStatus::Ok | AccessStatus::Unlimited => return None,
    })
}

/// What a status means and what to do about it.
pub fn policy_page(lang: Lang, status: AccessStatus) -> Option<Page> {
    let (title, body, action) = status_texts(status)?;
    let body_html = PolicyView {
        title: title.get(lang),
        body: body.get(lang),
        action: action.get(lang),
        login: Text::new("Masuk", "Log in").get(lang),
        buy: purchase_helps(status).then(|| (SHOP_PATH, BUY.get(lang))),
    }
    .render_once()
    .ok()?;
    Some(Page::new(lang, title.get(lang), body_html))
}

/// Renders a fragment into the shared layout; a template error becomes a plain message.
pub fn page(lang: Lang, title: &str, fragment: Result<String, sailfish::RenderError>) -> Page {
    let body = fragment.unwrap_or_else(|e| {
        tracing::error!(error = %e, "template failed");
        "<p class=\"error\">Internal error.</p>".to_owned()
    });
    Page::new(lang, title, body)
}
