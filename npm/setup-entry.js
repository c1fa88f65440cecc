// Setup entry: the light object the host loads for onboarding/setup surfaces.
import { defineSetupPluginEntry } from "openclaw/plugin-sdk/channel-core";
import { rocketchatPlugin } from "./src/channel.js";

export default defineSetupPluginEntry(rocketchatPlugin);
