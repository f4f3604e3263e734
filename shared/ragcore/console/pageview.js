// A document's pages drawn in the browser with a chunk's positions highlighted: PDFs through pdf.js (Mozilla's
// renderer, Apache-2.0, shipped in vendor/ — nothing is fetched from elsewhere), images as they are. The file comes
// from the public download route, once per page visit, and only when asked for.
import { blob } from "./api.js";
import { h } from "./ui.js";

const WIDTH = 520;  // CSS pixels of a drawn page (the canvas has more on dense screens)
const IMAGE = /\.(png|jpe?g|gif|bmp|webp)$/i;
let pdfjs = null;

async function library() {
  if (!pdfjs) {
    pdfjs = await import("./vendor/pdfjs/pdf.min.js");
    pdfjs.GlobalWorkerOptions.workerSrc = new URL("./vendor/pdfjs/pdf.worker.min.js", import.meta.url).href;
  }
  return pdfjs;
}

/** Whether pages of this file can be drawn here. */
export function drawable(name) {
  return /\.pdf$/i.test(name || "") || IMAGE.test(name || "");
}

/** A document to draw pages of: `open()` downloads and opens it on first use only. */
export function pageSource(path, name) {
  let opened = null;
  return {
    open() {
      opened = opened || (async () => {
        const file = await blob(path);
        if (!file) throw new Error("the document could not be downloaded");
        if (IMAGE.test(name)) {
          const picture = new Image();
          picture.src = URL.createObjectURL(file);
          await picture.decode();
          return { kind: "image", picture };
        }
        const lib = await library();
        const pdf = await lib.getDocument({ data: new Uint8Array(await file.arrayBuffer()), isEvalSupported: false }).promise;
        return { kind: "pdf", pdf };
      })();
      return opened;
    },
  };
}

function highlight(ctx, boxes, scale) {
  ctx.save();
  ctx.fillStyle = "rgba(255, 196, 0, 0.35)";
  ctx.strokeStyle = "rgba(214, 120, 0, 0.95)";
  ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
  for (const [, x0, x1, top, bottom] of boxes) {
    ctx.fillRect(x0 * scale, top * scale, (x1 - x0) * scale, (bottom - top) * scale);
    ctx.strokeRect(x0 * scale, top * scale, (x1 - x0) * scale, (bottom - top) * scale);
  }
  ctx.restore();
}

/** Figures of the pages a chunk's positions ([page, x0, x1, top, bottom]: PDF points from the page's top-left,
 *  image pixels for image files) fall on, each page drawn with the chunk's boxes highlighted. */
export async function drawPages(source, positions) {
  const boxes = (positions || []).filter((p) => Array.isArray(p) && p.length >= 5 && p[2] > p[1] && p[4] > p[3]);
  const doc = await source.open();
  const ratio = window.devicePixelRatio || 1;
  const figures = [];
  for (const page of [...new Set(boxes.map((b) => b[0]))]) {
    const mine = boxes.filter((b) => b[0] === page);
    const canvas = h("canvas", { class: "page", role: "img", "aria-label": `page ${page} with the chunk highlighted` });
    let scale;
    if (doc.kind === "image") {
      scale = (WIDTH * ratio) / doc.picture.naturalWidth;
      canvas.width = WIDTH * ratio;
      canvas.height = Math.round(doc.picture.naturalHeight * scale);
      canvas.getContext("2d").drawImage(doc.picture, 0, 0, canvas.width, canvas.height);
    } else {
      if (page < 1 || page > doc.pdf.numPages) continue;
      const pdfPage = await doc.pdf.getPage(page);
      scale = (WIDTH * ratio) / pdfPage.getViewport({ scale: 1 }).width;
      const viewport = pdfPage.getViewport({ scale });
      canvas.width = Math.round(viewport.width);
      canvas.height = Math.round(viewport.height);
      await pdfPage.render({ canvas, viewport }).promise;
    }
    canvas.style.width = `${WIDTH}px`;
    highlight(canvas.getContext("2d"), mine, scale);
    figures.push(h("figure", { class: "pageview" }, canvas, h("figcaption", {}, `p. ${page}`)));
  }
  return figures;
}
