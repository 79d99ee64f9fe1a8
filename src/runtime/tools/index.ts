/** The runtime's tools: the registry, the built-ins, user tool modules and the config file. */
export type { Tool, ToolContext, ToolLookup } from './tool.js';
export { ToolConfigError, ToolError, ToolInputError } from './errors.js';
export type { RegisterOptions } from './registry.js';
export { TOOL_NAME, ToolRegistry } from './registry.js';
export type { HttpResponse } from './http.js';
export { HTTP_REQUEST_TIMEOUT_MS, httpRequest, httpRequestTool } from './http.js';
export type { SearchResult } from './search.js';
export { SEARCH_DEFAULT_K, SEARCH_MAX_K, searchTool, simulatedSearch } from './search.js';
export { loadToolModule, toolsFromExports } from './module.js';
export type { LoadRuntimeConfigOptions, RuntimeConfig } from './config.js';
export { CONFIG_FILE_NAME, RuntimeConfigError, loadRuntimeConfig, parseRuntimeConfig } from './config.js';
export type { ToolRegistryOptions } from './create.js';
export { BUILTIN_TOOLS, createToolRegistry } from './create.js';
