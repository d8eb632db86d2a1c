export const MAX_CSV_BYTES = 1_000_000;

/**
 * The CSV text of an import form: the uploaded file when one was chosen,
 * else the pasted text (the preview step carries the text forward this way).
 */
export async function readCsvUpload(formData: FormData): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const file = formData.get("file");
  const pasted = formData.get("csv");
  let text = "";
  if (file instanceof File && file.size > 0) {
    if (file.size > MAX_CSV_BYTES) return { ok: false, error: "The file is larger than 1 MB." };
    text = await file.text();
  } else if (typeof pasted === "string") {
    if (pasted.length > MAX_CSV_BYTES) return { ok: false, error: "The text is larger than 1 MB." };
    text = pasted;
  }
  if (text.trim() === "") return { ok: false, error: "Choose a CSV file or paste its contents." };
  return { ok: true, text };
}
