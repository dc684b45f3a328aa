//! Server-rendered SVG charts: a bar chart and a gauge. No script, no external font; colours
//! come from the stylesheet (`.chart .bar`, `.gauge .fill`), so dark mode applies to them too.
//! Every chart is an `role="img"` with a label for screen readers, every bar has a `<title>`.

use std::fmt::Write as _;

use super::escape;

/// One bar: its axis label, its value and the text shown when it is pointed at.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub title: String,
}

const WIDTH: i64 = 320;
const HEIGHT: i64 = 140;
const PLOT_TOP: i64 = 8;
const PLOT_BOTTOM: i64 = 118;

/// A bar chart of `bars` (negative values count as zero), scaled to the largest; at most about
/// eight axis labels are written, evenly spaced, so thirty days stay readable on a phone.
pub fn bar_chart(bars: &[Bar], label: &str) -> String {
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"0\" y1=\"{PLOT_BOTTOM}\" x2=\"{WIDTH}\" y2=\"{PLOT_BOTTOM}\"/>"
    );
    let count = i64::try_from(bars.len()).unwrap_or(i64::MAX).max(1);
    let max = bars
        .iter()
        .map(|b| b.value.max(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH * 100 / count; // hundredths of a unit, so 30 bars fit exactly
    let every = (count + 7) / 8;
    for (i, bar) in (0_i64..).zip(bars) {
        let value = i128::from(bar.value.max(0));
        let height = i64::try_from(value * i128::from(PLOT_BOTTOM - PLOT_TOP) / i128::from(max))
            .unwrap_or(0);
        let x = i * slot + slot / 10;
        let w = slot * 8 / 10;
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{height}\" rx=\"1\"><title>{}</title></rect>",
            hundredths(x),
            PLOT_BOTTOM - height,
            hundredths(w),
            escape(&bar.title)
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                hundredths(i * slot + slot / 2),
                HEIGHT - 6,
                escape(&bar.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn hundredths(v: i64) -> String {
    format!("{}.{:02}", v / 100, v % 100)
}

/// A ring gauge filled to `permille` (0–1000) of its circumference, with a big `value` and a
/// small `caption` in the middle. `low` draws the fill in the warning colour.
pub fn gauge(permille: u32, value: &str, caption: &str, label: &str, low: bool) -> String {
    // r = 50 → circumference ≈ 314.16; dash lengths in hundredths.
    const CIRCUMFERENCE: u32 = 31_416;
    let filled = CIRCUMFERENCE * permille.min(1000) / 1000;
    format!(
        "<svg class=\"gauge{}\" viewBox=\"0 0 120 120\" width=\"160\" height=\"160\" role=\"img\" aria-label=\"{}\">\
<circle class=\"track\" cx=\"60\" cy=\"60\" r=\"50\" fill=\"none\" stroke-width=\"12\"/>\
<circle class=\"fill\" cx=\"60\" cy=\"60\" r=\"50\" fill=\"none\" stroke-width=\"12\" stroke-linecap=\"round\" \
stroke-dasharray=\"{} {}\" transform=\"rotate(-90 60 60)\"/>\
<text x=\"60\" y=\"62\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"700\">{}</text>\
<text x=\"60\" y=\"80\" text-anchor=\"middle\" font-size=\"10\">{}</text></svg>",
        if low { " low" } else { "" },
        escape(label),
        hundredths(i64::from(filled)),
        hundredths(i64::from(CIRCUMFERENCE)),
        escape(value),
        escape(caption),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.into(),
            value,
            title: format!("{label}: {value}"),
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_escape_text() {
        let svg = bar_chart(
            &[bar("a", 50), bar("<b>", 100), bar("c", -5)],
            "usage & more",
        );
        assert!(svg.contains("aria-label=\"usage &amp; more\""));
        assert!(svg.contains("height=\"110\""), "{svg}");
        assert!(svg.contains("height=\"55\""), "{svg}");
        assert!(svg.contains("height=\"0\""), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("<rect").count(), 3);
    }

    #[test]
    fn thirty_bars_get_a_few_labels_and_empty_charts_draw() {
        let bars: Vec<Bar> = (0..30).map(|i| bar(&i.to_string(), i)).collect();
        let svg = bar_chart(&bars, "x");
        assert_eq!(svg.matches("<rect").count(), 30);
        assert!(svg.matches("<text").count() <= 8);
        assert!(bar_chart(&[], "none").ends_with("</svg>"));
        assert!(bar_chart(&[bar("max", i64::MAX)], "big").contains("height=\"110\""));
    }

    #[test]
    fn gauge_fills_its_share() {
        let svg = gauge(500, "2,5 GB", "of 5 GB", "remaining", false);
        assert!(svg.contains("stroke-dasharray=\"157.08 314.16\""), "{svg}");
        assert!(gauge(2000, "", "", "", true).contains("314.16 314.16"));
        assert!(gauge(0, "", "", "", true).contains("class=\"gauge low\""));
    }
}
