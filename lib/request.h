/*
 * request: a request record in canonical form, before any dialect.
 *
 * Users write requests loosely (DESIGN.md section 2): "prompt" or
 * "messages", content as a string or a list of parts, tools in OpenAI's
 * wrapper or bare, images by path, URL or data.  request_normalize turns
 * that into one canonical shape so that each dialect adapter maps exactly
 * one form to its wire format:
 *
 *	{"system": "text",			(absent when none)
 *	 "messages": [
 *	   {"role": "user", "content": [PART...]},
 *	   {"role": "assistant", "content": [PART...],
 *	    "reasoning": "text", "reasoning_signature": "opaque",
 *	    "tool_calls": [{"id": "c1", "name": "f", "arguments": {...}}]},
 *	   {"role": "tool", "tool_call_id": "c1", "name": "f",
 *	    "content": [PART...]}],
 *	 "tools": [{"name": "f", "description": "...", "parameters": {...},
 *	    "strict": true}],		(strict only when the tool asks)
 *	 "tool_choice": "auto" | "none" | "required" | {"name": "f"},
 *	 "max_tokens": N, "temperature": X, "top_p": X, "stop": ["..."],
 *	 "response_format": {"type": "json_object"} |
 *	     {"type": "json_schema", "name": "n", "schema": {...},
 *	      "strict": true},
 *	 "thinking": "off" | "minimal" | "low" | "medium" | "high" | "xhigh",
 *	 "thinking_value": "<the target's thinking_map value>" | null,
 *	 "params": {...}}
 *
 * A PART is {"type": "text", "text": "..."} or {"type": "image", "mime":
 * "image/png", "data": "<base64>"} or {"type": "image", "url": "https:..."}.
 * Image files named by "path" are read and base64-encoded here (bounded in
 * size; the MIME type from the file's magic bytes: png, jpeg, gif, webp),
 * "data" may be base64 (MIME from "mime", else sniffed) or a data: URL;
 * a data: URL given as "url" or OpenAI's image_url becomes mime + data too.
 * Fields that are absent (or null) in the record are absent here too.
 * Content given as a string is one text part, "" or null none.
 * "prompt" is one user message, appended after any "messages".
 * A "system" message in "messages" moves to "system" after the record's
 * own "system" (several join with a blank line); a "developer" message
 * counts as system.  Assistant "reasoning_content" reads as "reasoning";
 * tool calls may be ours or OpenAI's {"id", "function": {"name",
 * "arguments": "<JSON text>"}}, arguments always become an object.  A
 * tool message gets the "name" of the call it answers unless it has one.
 * Tools may be OpenAI's {"type": "function", "function": {...}}, bare,
 * or Anthropic's with "input_schema"; missing parameters read as an empty
 * object schema.  "tool_choice" "any" reads as "required", a named tool
 * as {"name": "f"} (it must be one of "tools").  "response_format"
 * {"type": "text"} is dropped; Chat Completions' nested "json_schema"
 * is flattened, its name defaulting to "response".
 * "max_tokens" is the record's only: an adapter whose API requires one
 * (Anthropic) falls back to target.max_tokens itself.
 * "thinking_value" is target.thinking_map[level] when the map has the
 * level (null there: the model cannot think at that level), else the
 * level itself.  "params" is the target's (from an alias) merged with
 * the record's, the record winning.
 *
 * What is checked, each failure a message for a bad_input error record:
 * roles, content kinds, a tool message whose tool_call_id no earlier
 * assistant tool call has ("tool result 'c9' answers no earlier tool
 * call"), an image path that cannot be read or is not an image, an
 * unknown thinking level, tool definitions without a name, a request
 * with no message at all.  Other messages name the place, as in
 * "messages[2]: content[0]: unknown part type 'audio'".
 */
#ifndef LLM_REQUEST_H
#define LLM_REQUEST_H

#include <jv.h>

#define REQUEST_IMAGE_MAX	(20u << 20)	/* bytes per image file */

/*
 * Normalizes rec (borrowed) for target (borrowed).  Returns 0 and a new
 * canonical object in *out, or -1 with a message in err.
 */
int	request_normalize(jv rec, jv target, jv *out, char *err);

/*
 * The text of a canonical content list (borrowed): the text parts joined
 * with "\n".  Returns a new string jv.
 */
jv	request_text(jv content);

#endif
