//! The one thin painter: draws a render::Scene onto an OffscreenCanvas's 2-D context at the
//! screen's devicePixelRatio, so text and lines are sharp and digits stay crisp pixels.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ImageData, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use crate::render::scene::{Align, Colour, Item, Scene};

fn css(c: Colour) -> String {
    format!("rgba({},{},{},{})", c[0], c[1], c[2], c[3] as f32 / 255.0)
}

fn context_2d(canvas: &OffscreenCanvas) -> Result<OffscreenCanvasRenderingContext2d, JsValue> {
    canvas.get_context("2d")?.ok_or_else(|| JsValue::from_str("no 2d context"))?.dyn_into().map_err(JsValue::from)
}

/// Size the canvas's backing store to the scene times `dpr` (the page shows it at the scene's
/// size in CSS pixels), and draw the scene in scene pixels through a `dpr` transform. Images
/// go through a scratch canvas and `drawImage` (`putImageData` ignores transforms), unsmoothed.
/// Errors come back as JS values.
pub fn paint(canvas: &OffscreenCanvas, scene: &Scene, dpr: f64) -> Result<(), JsValue> {
    let (w, h) = (scene.width.max(1) as f64, scene.height.max(1) as f64);
    let (bw, bh) = ((w * dpr).round().max(1.0) as u32, (h * dpr).round().max(1.0) as u32);
    if canvas.width() != bw || canvas.height() != bh {
        canvas.set_width(bw);
        canvas.set_height(bh);
    }
    let ctx = context_2d(canvas)?;
    // The exact ratio of the rounded backing store, so the scene fills it edge to edge.
    ctx.set_transform(bw as f64 / w, 0.0, 0.0, bh as f64 / h, 0.0, 0.0)?;
    ctx.set_image_smoothing_enabled(false);
    ctx.set_fill_style_str(&css(scene.background));
    ctx.fill_rect(0.0, 0.0, w, h);
    ctx.set_text_baseline("middle");
    let no_dash = js_sys::Array::new();
    let dash = js_sys::Array::of2(&JsValue::from(6.0), &JsValue::from(4.0));
    let mut scratch: Option<(OffscreenCanvas, OffscreenCanvasRenderingContext2d)> = None;
    for item in &scene.items {
        match item {
            Item::Rect { x, y, w, h, fill } => {
                ctx.set_fill_style_str(&css(*fill));
                ctx.fill_rect(*x as f64, *y as f64, *w as f64, *h as f64);
            }
            Item::Line { points, stroke, width, dashed } => {
                let Some(((x0, y0), rest)) = points.split_first() else { continue };
                ctx.set_stroke_style_str(&css(*stroke));
                ctx.set_line_width(*width as f64);
                ctx.set_line_dash(if *dashed { &dash } else { &no_dash })?;
                ctx.begin_path();
                ctx.move_to(*x0 as f64, *y0 as f64);
                for (x, y) in rest {
                    ctx.line_to(*x as f64, *y as f64);
                }
                ctx.stroke();
            }
            Item::Text { x, y, text, size, colour, align } => {
                ctx.set_font(&format!("{size}px system-ui, sans-serif"));
                ctx.set_fill_style_str(&css(*colour));
                ctx.set_text_align(match align {
                    Align::Left => "left",
                    Align::Center => "center",
                    Align::Right => "right",
                });
                ctx.fill_text(text, *x as f64, *y as f64)?;
            }
            Item::Image { x, y, w, h, image } => {
                if image.width == 0 || image.height == 0 || *w <= 0.0 || *h <= 0.0 {
                    continue;
                }
                let (iw, ih) = (image.width as u32, image.height as u32);
                let (source, source_ctx) = match scratch.take() {
                    Some(pair) => pair,
                    None => {
                        let source = OffscreenCanvas::new(iw, ih)?;
                        let source_ctx = context_2d(&source)?;
                        (source, source_ctx)
                    }
                };
                if source.width() != iw || source.height() != ih {
                    source.set_width(iw);
                    source.set_height(ih);
                }
                // Copied into JS-owned memory first: ImageData refuses a view of the threaded
                // builds' shared memory.
                let bytes = js_sys::Uint8ClampedArray::new_with_length(image.pixels.len() as u32);
                bytes.copy_from(&image.pixels);
                let data = ImageData::new_with_js_u8_clamped_array_and_sh(&bytes, iw, ih)?;
                source_ctx.put_image_data(&data, 0.0, 0.0)?;
                ctx.draw_image_with_offscreen_canvas_and_dw_and_dh(&source, x.round() as f64, y.round() as f64, *w as f64, *h as f64)?;
                scratch = Some((source, source_ctx));
            }
        }
    }
    Ok(())
}
