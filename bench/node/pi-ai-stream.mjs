// pi-ai streaming N chat completions, C at a time, reading every event and
// assembling the text as a streaming client does; checks each stream ended
// with "done" and the assembled text equals the one the server sends.
// usage: node pi-ai-stream.mjs BASE_URL N C EXPECTED_TEXT
import { stream } from "@mariozechner/pi-ai";

const [baseUrl, n, c, want] = [process.argv[2], +process.argv[3],
    +process.argv[4], process.argv[5]];
const model = {
	id: "gpt-4o-mini", name: "bench", api: "openai-completions",
	provider: "bench", baseUrl, reasoning: false, input: ["text"],
	cost: { input: 0.15, output: 0.6, cacheRead: 0, cacheWrite: 0 },
	contextWindow: 128000, maxTokens: 64,
	compat: { supportsStore: false, supportsDeveloperRole: false },
};
let next = 0, ok = 0, deltas = 0;

async function worker() {
	for (let i = next++; i < n; i = next++) {
		const s = stream(model, {
			messages: [{ role: "user", content: `Tell story number ${i}`,
			    timestamp: Date.now() }],
		}, { apiKey: "sk-test-bench", maxTokens: 64 });
		let text = "", done = false;
		for await (const ev of s) {
			if (ev.type === "text_delta") {
				text += ev.delta;
				deltas++;
			} else if (ev.type === "done")
				done = true;
		}
		if (done && text === want)
			ok++;
	}
}
await Promise.all(Array.from({ length: c }, worker));
if (ok !== n) {
	console.error(`pi-ai-stream.mjs: ${ok} of ${n} streams complete and right`);
	process.exit(1);
}
console.log(`${ok} streams, ${deltas} text deltas`);
