//! The user-facing sentence for each error the login pages show, in both languages.

use lpsaring_kernel::Lang;

use crate::error::AuthError;

/// What a user sees when the router refused a change (a trap): a plain sentence, never the trap.
pub(crate) const ROUTER_ERROR: lpsaring_kernel::Text = lpsaring_kernel::Text::new(
    "Router hotspot gagal memproses permintaan Anda. Coba lagi sebentar lagi atau hubungi operator.",
    "The hotspot router could not complete your request. Try again in a moment or contact the operator.",
);

/// The label of a phone number field.
pub(crate) const PHONE_NUMBER: lpsaring_kernel::Text =
    lpsaring_kernel::Text::new("Nomor telepon", "Phone number");

pub(crate) fn localized(lang: Lang, e: &AuthError) -> String {
    use lpsaring_kernel::Text;
    let text = match e {
        AuthError::InvalidPhone(_) => Text::new(
            "Nomor telepon tidak valid. Contoh: 0812 3456 7890.",
            "Invalid phone number. Example: 0812 3456 7890.",
        ),
        AuthError::UserNotFound => Text::new(
            "Nomor ini belum terdaftar. Silakan daftar dulu.",
            "This number is not registered. Please register first.",
        ),
        AuthError::UserExists => Text::new(
            "Nomor ini sudah terdaftar.",
            "This number is already registered.",
        ),
        AuthError::UserUnapproved => Text::new(
            "Akun Anda menunggu persetujuan operator.",
            "Your account is waiting for the operator's approval.",
        ),
        AuthError::UserInactive => Text::new(
            "Akun Anda dinonaktifkan. Hubungi operator.",
            "Your account is deactivated. Contact the operator.",
        ),
        AuthError::UserBlocked => Text::new(
            "Akun Anda diblokir. Hubungi operator.",
            "Your account is blocked. Contact the operator.",
        ),
        AuthError::OtpCooldown { .. } => Text::new(
            "Kode sudah dikirim. Tunggu sebentar sebelum meminta lagi.",
            "A code was sent. Wait a moment before asking again.",
        ),
        AuthError::RateLimited { .. } => Text::new(
            "Terlalu banyak permintaan. Coba lagi nanti.",
            "Too many requests. Try again later.",
        ),
        AuthError::OtpInvalid { .. } => Text::new("Kode salah.", "Wrong code."),
        AuthError::OtpExpired => Text::new(
            "Kode kedaluwarsa atau sudah dipakai. Minta kode baru.",
            "The code expired or was used. Ask for a new one.",
        ),
        AuthError::OtpTooManyAttempts => Text::new(
            "Terlalu banyak kode salah. Minta kode baru.",
            "Too many wrong codes. Ask for a new one.",
        ),
        AuthError::MessengerFailed(_) => Text::new(
            "Kode tidak dapat dikirim saat ini. Coba lagi sebentar lagi.",
            "The code could not be sent right now. Try again shortly.",
        ),
        AuthError::RouterUnavailable(_) => Text::new(
            "Router hotspot tidak dapat dihubungi. Kode Anda masih berlaku, coba lagi.",
            "The hotspot router cannot be reached. Your code is still valid, try again.",
        ),
        AuthError::Router(_) => ROUTER_ERROR,
        AuthError::MacMismatch => Text::new(
            "Perangkat tidak cocok dengan yang terlihat di hotspot.",
            "This device does not match the one the hotspot sees.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::TakeoverNeedsConfirmation) => Text::new(
            "Perangkat ini terdaftar di akun lain. Centang kotak di bawah untuk memindahkannya.",
            "This device is registered to another account. Tick the box below to move it.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::OwnedByActiveUser) => Text::new(
            "Perangkat ini sedang dipakai akun lain.",
            "This device is in use by another account.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::LimitReached { .. }) => Text::new(
            "Batas perangkat tercapai dan semua perangkat sedang online.",
            "The device limit is reached and all devices are online.",
        ),
        AuthError::VoucherInvalid => Text::new(
            "Kode voucher tidak dikenal. Periksa lagi kodenya.",
            "The voucher code is not valid. Check the code again.",
        ),
        AuthError::VoucherUsed => Text::new(
            "Voucher ini sudah ditukar ke akun bernomor telepon; masuk dengan nomor itu.",
            "This voucher was redeemed to an account with a phone number; log in with that number.",
        ),
        AuthError::VoucherRevoked => Text::new(
            "Voucher ini sudah dibatalkan. Hubungi operator.",
            "This voucher has been revoked. Contact the operator.",
        ),
        AuthError::VoucherUnavailable(_) => Text::new(
            "Masuk dengan voucher sedang tidak tersedia. Coba lagi sebentar lagi.",
            "Voucher login is not available right now. Try again shortly.",
        ),
        _ => return lpsaring_kernel::ErrorCode::public_message(e),
    };
    let mut out = text.get(lang).to_owned();
    if let AuthError::OtpInvalid { remaining } = e {
        out.push_str(&format!(
            " ({}: {remaining})",
            Text::new("sisa percobaan", "attempts left").get(lang)
        ));
    }
    out
}

pub(crate) fn form_expired(lang: Lang) -> String {
    lpsaring_kernel::Text::new(
        "Formulir kedaluwarsa. Muat ulang halaman dan coba lagi.",
        "The form expired. Reload the page and try again.",
    )
    .get(lang)
    .to_owned()
}
