// The official openai SDK issuing N chat completions, C at a time.
// usage: node openai.mjs BASE_URL N C
import OpenAI from "openai";

const [baseURL, n, c] = [process.argv[2], +process.argv[3], +process.argv[4]];
const client = new OpenAI({ baseURL, apiKey: "sk-test-bench", maxRetries: 0 });
let next = 0, ok = 0;

async function worker() {
	for (let i = next++; i < n; i = next++) {
		const r = await client.chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: `Say hello to number ${i}` }],
			max_tokens: 16,
		});
		if (r.choices[0].message.content) ok++;
	}
}
await Promise.all(Array.from({ length: c }, worker));
if (ok !== n) {
	console.error(`openai.mjs: ${ok} of ${n} answered`);
	process.exit(1);
}
