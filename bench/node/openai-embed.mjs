// The official openai SDK embedding the texts of a JSONL file ({"id","text"}
// per line) in batches of B, C batches at a time, leaving encoding_format
// unset so that the SDK asks for base64 and decodes it to floats itself.
// Checks every batch came back whole, in order, with DIMS floats a vector.
// usage: node openai-embed.mjs BASE_URL FILE B C DIMS
import { readFileSync } from "node:fs";
import OpenAI from "openai";

const [baseURL, file, b, c, dims] = [process.argv[2], process.argv[3],
    +process.argv[4], +process.argv[5], +process.argv[6]];
const client = new OpenAI({ baseURL, apiKey: "sk-test-bench", maxRetries: 0 });
const texts = readFileSync(file, "utf8").split("\n").filter((l) => l)
    .map((l) => JSON.parse(l).text);
const batches = Math.ceil(texts.length / b);
let next = 0, ok = 0, vectors = 0, bad = "";

async function worker() {
	for (let i = next++; i < batches; i = next++) {
		const input = texts.slice(i * b, (i + 1) * b);
		const r = await client.embeddings.create({
			model: "text-embedding-3-small", input,
		});
		const good = r.data.length === input.length && r.data.every(
		    (d, j) => d.index === j && d.embedding.length === dims &&
		    Number.isFinite(d.embedding[dims - 1]));
		if (good) {
			ok++;
			vectors += r.data.length;
		} else if (!bad)
			bad = `batch ${i}: ${r.data.length} items`;
	}
}
await Promise.all(Array.from({ length: c }, worker));
if (ok !== batches || vectors !== texts.length) {
	console.error(`openai-embed.mjs: ${ok} of ${batches} batches right ` +
	    `(${vectors} of ${texts.length} vectors) ${bad}`);
	process.exit(1);
}
console.log(`${vectors} vectors in ${batches} batches`);
