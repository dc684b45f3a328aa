//! QR codes as small inline SVG, for pages that show a link to a phone's camera (voucher sheets,
//! payment pages). One module per QR cell, so the markup stays small; the page's CSS sets the
//! displayed size (the SVG scales through its `viewBox`).

/// Why a text cannot become a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Longer than the largest QR code holds at the error-correction level used.
    #[error("text too long for a QR code ({0} bytes)")]
    TooLong(usize),
}

/// Renders `text` as an `<svg>` element (no XML declaration) ready to put inside an HTML page.
///
/// Medium error correction and a quiet zone of four modules, so a printed code still scans.
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| QrError::TooLong(text.len()))?;
    let rendered = code
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    // The renderer writes a standalone document; inline SVG in HTML takes the element alone.
    let start = rendered.find("<svg").unwrap_or(0);
    Ok(rendered[start..].replacen("<svg ", r#"<svg role="img" class="qr" "#, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(svg: &str) -> u32 {
        let w = svg.split(r#"width=""#).nth(1).unwrap();
        w[..w.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn a_link_renders_as_one_inline_svg_element() {
        let out = svg("https://hotspot.example/voucher?code=ABCD-EFGHJK").unwrap();
        assert!(out.starts_with("<svg "), "{out}");
        assert!(out.ends_with("</svg>"), "{out}");
        assert!(!out.contains("<?xml"));
        assert_eq!(out.matches("<svg").count(), 1);
        assert!(out.contains(r#"viewBox="0 0 "#));
        assert!(out.contains(r##"fill="#000""##));
        // Square, between version 1 (21 modules) and a few versions up, plus 2×4 quiet zone.
        let width = size(&out);
        assert!((21 + 8..=57 + 8).contains(&width), "width {width}");
        assert!(out.contains(&format!(r#"height="{width}""#)));
        // Small enough to inline many on one printed sheet.
        assert!(out.len() < 12_000, "{} bytes", out.len());
    }

    #[test]
    fn longer_text_needs_a_bigger_code_and_too_long_is_an_error() {
        let short = size(&svg("A").unwrap());
        let long = size(&svg(&"x".repeat(500)).unwrap());
        assert_eq!(short, 21 + 8);
        assert!(long > short);
        assert_eq!(svg(&"x".repeat(5000)), Err(QrError::TooLong(5000)));
    }

    #[test]
    fn text_is_not_copied_into_the_markup() {
        let out = svg("<script>alert(1)</script>").unwrap();
        assert!(!out.contains("script"));
    }
}
