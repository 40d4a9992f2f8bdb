//! The one thin painter: draws a render::Scene onto an OffscreenCanvas's 2-D context.

use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{ImageData, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use crate::render::scene::{Align, Colour, Item, Scene};

fn css(c: Colour) -> String {
    format!("rgba({},{},{},{})", c[0], c[1], c[2], c[3] as f32 / 255.0)
}

/// Resize the canvas to the scene and draw it; errors come back as JS values.
pub fn paint(canvas: &OffscreenCanvas, scene: &Scene) -> Result<(), JsValue> {
    let (w, h) = (scene.width.max(1) as u32, scene.height.max(1) as u32);
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let ctx: OffscreenCanvasRenderingContext2d =
        canvas.get_context("2d")?.ok_or_else(|| JsValue::from_str("no 2d context"))?.dyn_into()?;
    ctx.set_fill_style_str(&css(scene.background));
    ctx.fill_rect(0.0, 0.0, w as f64, h as f64);
    ctx.set_text_baseline("middle");
    let no_dash = js_sys::Array::new();
    let dash = js_sys::Array::of2(&JsValue::from(6.0), &JsValue::from(4.0));
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
            Item::Image { x, y, image } => {
                if image.width == 0 || image.height == 0 {
                    continue;
                }
                let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&image.pixels), image.width as u32, image.height as u32)?;
                ctx.put_image_data(&data, x.round() as f64, y.round() as f64)?;
            }
        }
    }
    Ok(())
}
