// SKELETON entry point of @alexwoo-awso/openclaw-rocketchat: registers the `rocketchat` channel.
// Loads and registers, but every Rocket.Chat operation throws "native core not built yet".
import { defineChannelPluginEntry } from "openclaw/plugin-sdk/channel-core";
import { rocketchatPlugin } from "./src/channel.js";

let runtime;
export const getRocketchatRuntime = () => {
  if (!runtime) throw new Error("rocketchat: plugin runtime not initialized");
  return runtime;
};

export default defineChannelPluginEntry({
  id: "rocketchat",
  name: "Rocket.Chat",
  description: "Rocket.Chat channel plugin (skeleton)",
  plugin: rocketchatPlugin,
  // api.runtime: the host's PluginRuntime; runtime.channel.* is what inbound dispatch uses.
  setRuntime: (r) => {
    runtime = r;
  },
});
