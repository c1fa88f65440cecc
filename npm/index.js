// Entry point of @alexwoo-awso/openclaw-rocketchat: registers the `rocketchat` channel.
import { defineChannelPluginEntry } from "openclaw/plugin-sdk/channel-core";
import { getRocketchatRuntime, rocketchatPlugin, setRocketchatRuntime } from "./src/channel.js";

export { getRocketchatRuntime };

export default defineChannelPluginEntry({
  id: "rocketchat",
  name: "Rocket.Chat",
  description: "Rocket.Chat channel plugin (DDP/REST, native core)",
  plugin: rocketchatPlugin,
  // api.runtime: the host's PluginRuntime; runtime.channel.* is what inbound dispatch uses.
  setRuntime: setRocketchatRuntime,
});
