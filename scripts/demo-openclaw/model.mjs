// The model behind the demo's agent: the project's canned fake model on loopback by default, or a
// real OpenAI-compatible endpoint from the environment:
//   OPENAI_BASE_URL   e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (switches to real)
//   OPENAI_API_KEY    read by the gateway through an env SecretRef: never written to disk or printed
//   OPENAI_MODEL      model id (default: OpenClaw's default `openai/...` model)
//   OPENAI_API        openai-responses (OpenClaw's default for openai) or openai-completions
import { startFakeModel } from "../../tests/e2e/gateway.mjs";

// A ~5 KB answer for the scripted "long answer" prompt, so the fake model's reply is chunked
// (textChunkLimit is 4000) like a real model's long answer would be.
function longAnswer() {
  const steps = [];
  for (let i = 1; steps.join("\n").length < 4600; i++) {
    steps.push(`${i}. Step ${i}: check the service, read its log, and write down what changed since step ${i - 1}.`);
  }
  return ["Here is the long checklist you asked for.", "", ...steps, "", "That is the whole list (end of the long answer)."].join("\n");
}

export const LONG_PROMPT = "please give me a long checklist for a release";
export const FILE_PROMPT = "what is in this file?";
export const HISTORY_PROMPT = "@mybot what do you think?";

export async function startModel(env = process.env) {
  if (env.OPENAI_BASE_URL) {
    const baseUrl = env.OPENAI_BASE_URL.replace(/\/+$/, "");
    const provider = {
      baseUrl,
      apiKey: env.OPENAI_API_KEY ? { source: "env", provider: "default", id: "OPENAI_API_KEY" } : "none",
      ...(env.OPENAI_API ? { api: env.OPENAI_API } : {}),
      ...(env.OPENAI_MODEL ? { models: [{ id: env.OPENAI_MODEL, name: env.OPENAI_MODEL, input: ["text"] }] } : {}),
    };
    const extraConfig = {
      models: { providers: { openai: provider } },
      ...(env.OPENAI_MODEL ? { agents: { defaults: { model: { primary: `openai/${env.OPENAI_MODEL}` } } } } : {}),
    };
    const what = `${baseUrl}${env.OPENAI_MODEL ? `, model ${env.OPENAI_MODEL}` : ""}${env.OPENAI_API_KEY ? ", key from OPENAI_API_KEY" : ", no key"}`;
    return { fake: false, baseUrl, describe: `OpenAI-compatible endpoint ${what}`, extraConfig, stop: async () => {} };
  }
  const model = await startFakeModel();
  // The file and history answers are read from OpenClaw's request (fake-model.mjs "answer").
  const added = await model.addRules([
    { match: "long checklist", flags: "i", reply: longAnswer() },
    { match: "what is in this file\\?", flags: "i", answer: "file" },
    { match: "what do you think\\?", flags: "i", answer: "history" },
  ]);
  if (!added.ok) throw new Error(`fake model refused the demo's rules: ${await added.text()}`);
  return {
    fake: true,
    baseUrl: model.baseUrl,
    describe: `fake OpenAI-compatible model ${model.baseUrl} (canned replies: "echo: <your line>"; set OPENAI_BASE_URL for a real one)`,
    extraConfig: {},
    stop: () => model.stop(),
  };
}
