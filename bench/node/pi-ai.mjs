// pi-ai issuing N completions, C at a time (pi-ai always streams, so the
// server answers these with the same completion as server-sent events).
// usage: node pi-ai.mjs BASE_URL N C
import { complete } from "@mariozechner/pi-ai";

const [baseUrl, n, c] = [process.argv[2], +process.argv[3], +process.argv[4]];
const model = {
	id: "gpt-4o-mini", name: "bench", api: "openai-completions",
	provider: "bench", baseUrl, reasoning: false, input: ["text"],
	cost: { input: 0.15, output: 0.6, cacheRead: 0, cacheWrite: 0 },
	contextWindow: 128000, maxTokens: 16,
	compat: { supportsStore: false, supportsDeveloperRole: false },
};
let next = 0, ok = 0;

async function worker() {
	for (let i = next++; i < n; i = next++) {
		const r = await complete(model, {
			messages: [{ role: "user", content: `Say hello to number ${i}`,
			    timestamp: Date.now() }],
		}, { apiKey: "sk-test-bench", maxTokens: 16 });
		if (r.stopReason !== "error") ok++;
	}
}
await Promise.all(Array.from({ length: c }, worker));
if (ok !== n) {
	console.error(`pi-ai.mjs: ${ok} of ${n} answered`);
	process.exit(1);
}
