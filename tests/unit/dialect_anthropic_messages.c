/*
 * Unit tests for lib/dialect_anthropic_messages: canonical requests and
 * targets to request bodies, headers and URLs; response bodies to response
 * fields; error bodies to {"message","type","code"}.  The real recorded
 * transcripts in ../shared/fixtures/anthropic-messages (LLM_FIXTURES
 * overrides) are read at run time: the 200 body is parsed, the 429 bodies
 * are read as errors and the requests the SDK sent are rebuilt.
 *
 * JSON in the tables is written with ' for " to keep it readable: J()
 * swaps them back, so no test string holds an apostrophe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "xalloc.h"
#include "tap.h"

#define D	dialect_anthropic_messages

#define MAP_BUDGET \
	"'thinking_map':{'off':'disabled','minimal':'1024','low':'4096'," \
	"'medium':'16384','high':'32768','xhigh':null}"
#define MAP_EFFORT \
	"'thinking_map':{'off':'disabled','minimal':'low','low':'low'," \
	"'medium':'medium','high':'high','xhigh':'max'}"
#define ANTHROPIC \
	"'provider':'anthropic','api':'anthropic-messages'," \
	"'url':'https://api.anthropic.com/v1/messages'," \
	"'headers':{'anthropic-version':'2023-06-01'},'reasoning':true"
#define SONNET \
	ANTHROPIC ",'model':'claude-sonnet-4-5','max_tokens':64000," MAP_BUDGET

/* Cache markers off unless a case is about them: smaller bodies. */
#define T_SONNET	"{" SONNET ",'compat':{'cacheControlFormat':'none'}}"
#define T_CACHE		"{" SONNET ",'compat':{}}"
#define T_CACHE_LONG \
	"{" SONNET ",'compat':{'supportsLongCacheRetention':true}}"
#define T_CACHE_SHORT \
	"{" SONNET ",'compat':{'supportsLongCacheRetention':false}}"
#define T_EMPTYSIG	"{" SONNET ",'compat':{'cacheControlFormat':'none'," \
	"'allowEmptySignature':true}}"
#define T_STRICT	"{" SONNET ",'compat':{'cacheControlFormat':" \
	"'none','supportsStrictTools':true}}"
#define T_FORCE		"{" SONNET ",'compat':{'cacheControlFormat':" \
	"'none','forceAdaptiveThinking':true}}"
#define T_NOREASON	"{" ANTHROPIC ",'model':'claude-3-5-haiku'," \
	"'max_tokens':8192,'reasoning':false,'compat':{'cacheControlFormat':" \
	"'none'}}"
#define T_SMALL		"{" ANTHROPIC ",'model':'claude-opus-4-1'," \
	"'max_tokens':32000," MAP_BUDGET ",'compat':{'cacheControlFormat':" \
	"'none'}}"
#define T_OPUS46	"{" ANTHROPIC ",'model':'claude-opus-4-6'," \
	"'max_tokens':128000," MAP_EFFORT ",'compat':{'cacheControlFormat':" \
	"'none'}}"
#define T_BARE		"{'provider':'local'," \
	"'api':'anthropic-messages'," \
	"'url':'http://127.0.0.1:9/v1/messages','model':'m'," \
	"'compat':{'cacheControlFormat':'none'}}"
#define T_MINIMAX	"{'provider':'minimax','api':'anthropic-messages'," \
	"'url':'https://api.minimax.io/anthropic/v1/messages'," \
	"'model':'MiniMax-M2.7','headers':{'anthropic-version':'2023-06-01'}," \
	"'compat':{'cacheControlFormat':false},'max_tokens':131072," \
	"'reasoning':true}"
#define COPILOT_HEADERS \
	"'headers':{'User-Agent':'GitHubCopilotChat/0.35.0'," \
	"'Copilot-Integration-Id':'vscode-chat'," \
	"'anthropic-version':'2023-06-01'}"
#define T_COPILOT	"{'provider':'github-copilot'," \
	"'api':'anthropic-messages'," \
	"'url':'https://api.githubcopilot.com/v1/messages'," \
	"'model':'claude-haiku-4.5'," COPILOT_HEADERS "," \
	"'compat':{'supportsEagerToolInputStreaming':false," \
	"'cacheControlFormat':'none'},'max_tokens':32000,'reasoning':true}"
#define T_COPILOT_OPUS	"{'provider':'github-copilot'," \
	"'api':'anthropic-messages'," \
	"'url':'https://api.githubcopilot.com/v1/messages'," \
	"'model':'claude-opus-4.6'," COPILOT_HEADERS "," \
	"'compat':{'cacheControlFormat':'none'},'max_tokens':64000," \
	"'reasoning':true}"
#define T_BETA		"{" ANTHROPIC ",'model':'claude-haiku-4-5'," \
	"'headers':{'anthropic-version':'2023-06-01'," \
	"'Anthropic-Beta':'context-1m-2025-08-07'}," \
	"'compat':{'supportsEagerToolInputStreaming':false," \
	"'cacheControlFormat':'none'}}"
#define VERTEX_URL	"https://us-east5-aiplatform.googleapis.com/v1/" \
	"projects/p/locations/us-east5/publishers/anthropic/models/" \
	"claude-sonnet-4-5@20250929"
#define T_VERTEX	"{'provider':'google-vertex'," \
	"'api':'anthropic-messages','url':'" VERTEX_URL ":rawPredict'," \
	"'model':'claude-sonnet-4-5@20250929'," \
	"'headers':{'anthropic-version':'vertex-2023-10-16'}," \
	"'compat':{'cacheControlFormat':'none'},'max_tokens':64000," \
	"'reasoning':true," MAP_BUDGET "}"

#define HI	"'messages':[{'role':'user','content':[{'type':'text'," \
	"'text':'Hi'}]}]"
#define HI_WIRE	"'messages':[{'role':'user','content':[{'type':'text'," \
	"'text':'Hi'}]}]"
#define WEATHER	"'tools':[{'name':'get','description':'Get weather'," \
	"'parameters':{'type':'object','properties':{'city':{'type':" \
	"'string'}}}}]"
#define WEATHER_WIRE "'tools':[{'name':'get','description':'Get weather'," \
	"'input_schema':{'type':'object','properties':{'city':{'type':" \
	"'string'}}}}]"
#define WEATHER_EAGER "'tools':[{'name':'get','description':'Get weather'," \
	"'input_schema':{'type':'object','properties':{'city':{'type':" \
	"'string'}}},'eager_input_streaming':true}]"
#define SCHEMA	"{'type':'object','properties':{'n':{'type':" \
	"'integer'}},'required':['n'],'additionalProperties':false}"
#define CC	"'cache_control':{'type':'ephemeral'}"
#define CC1H	"'cache_control':{'type':'ephemeral','ttl':'1h'}"
#define INSTR	"Respond with a single JSON object and nothing else."
#define BETA	"fine-grained-tool-streaming-2025-05-14"

struct bcase {
	const char	*name;
	const char	*target;
	const char	*canon;
	int		 stream;
	const char	*body;		/* NULL: build fails */
	const char	*headers;	/* NULL: {} */
	const char	*url;		/* NULL: null */
	const char	*errsub;	/* part of the message on failure */
};

static const struct bcase bcases[] = {
	{ "text prompt", T_SONNET, "{" HI ",'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE "}",
	  NULL, NULL, NULL },
	{ "max_tokens from the target", T_SONNET, "{" HI "}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':64000," HI_WIRE "}",
	  NULL, NULL, NULL },
	{ "max_tokens default, anthropic-version added", T_BARE,
	  "{" HI "}", 0,
	  "{'model':'m','max_tokens':4096," HI_WIRE "}",
	  "{'anthropic-version':'2023-06-01'}", NULL, NULL },
	{ "system string", T_SONNET,
	  "{'system':'Be terse.'," HI ",'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'system':'Be terse.'," HI_WIRE "}", NULL, NULL, NULL },
	{ "cache markers by default: system and last user turn", T_CACHE,
	  "{'system':'Be terse.','messages':["
	  "{'role':'user','content':[{'type':'text','text':'Hi'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Hello'}]},"
	  "{'role':'user','content':[{'type':'text','text':'More'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'system':[{'type':'text','text':'Be terse.'," CC "}],"
	  "'messages':["
	  "{'role':'user','content':[{'type':'text','text':'Hi'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Hello'}]},"
	  "{'role':'user','content':[{'type':'text','text':'More'," CC "}]}"
	  "]}", NULL, NULL, NULL },
	{ "supportsLongCacheRetention true: ttl 1h", T_CACHE_LONG,
	  "{'system':'S'," HI ",'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'system':[{'type':'text','text':'S'," CC1H "}],"
	  "'messages':[{'role':'user','content':[{'type':'text','text':'Hi',"
	  CC1H "}]}]}", NULL, NULL, NULL },
	{ "supportsLongCacheRetention false: default ttl", T_CACHE_SHORT,
	  "{" HI ",'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'messages':[{'role':'user','content':[{'type':'text','text':'Hi',"
	  CC "}]}]}", NULL, NULL, NULL },
	{ "cache marker on a trailing tool result", T_CACHE,
	  "{'messages':["
	  "{'role':'user','content':[{'type':'text','text':'Go'}]},"
	  "{'role':'assistant','content':[],'tool_calls':[{'id':'c1',"
	  "'name':'f','arguments':{}}]},"
	  "{'role':'tool','tool_call_id':'c1','name':'f','content':"
	  "[{'type':'text','text':'done'}]}],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'Go'}]},"
	  "{'role':'assistant','content':[{'type':'tool_use','id':'c1',"
	  "'name':'f','input':{}}]},"
	  "{'role':'user','content':[{'type':'tool_result','tool_use_id':"
	  "'c1','content':'done'," CC "}]}]}", NULL, NULL, NULL },
	{ "images: base64, url, data: URL", T_SONNET,
	  "{'messages':[{'role':'user','content':["
	  "{'type':'text','text':'What?'},"
	  "{'type':'image','mime':'image/png','data':'iVBORw0K'},"
	  "{'type':'image','url':'https://example.com/a.jpg'},"
	  "{'type':'image','url':'data:image/gif;base64,R0lGOD'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'What?'},"
	  "{'type':'image','source':{'type':'base64','media_type':"
	  "'image/png','data':'iVBORw0K'}},"
	  "{'type':'image','source':{'type':'url','url':"
	  "'https://example.com/a.jpg'}},"
	  "{'type':'image','source':{'type':'base64','media_type':"
	  "'image/gif','data':'R0lGOD'}}]}]}", NULL, NULL, NULL },
	{ "tool round trip: results merged into one user turn", T_SONNET,
	  "{'messages':["
	  "{'role':'user','content':[{'type':'text','text':'Weather?'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Checking.'}],"
	  "'tool_calls':[{'id':'c1','name':'get','arguments':{'city':'Oslo'}},"
	  "{'id':'c2','name':'get','arguments':{'city':'Rome'}}]},"
	  "{'role':'tool','tool_call_id':'c1','name':'get','content':"
	  "[{'type':'text','text':'Sunny'}]},"
	  "{'role':'tool','tool_call_id':'c2','name':'get','content':"
	  "[{'type':'text','text':'Rain'},{'type':'text','text':'Cold'}]},"
	  "{'role':'user','content':[{'type':'text','text':'Thanks'}]}],"
	  WEATHER ",'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'Weather?'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Checking.'},"
	  "{'type':'tool_use','id':'c1','name':'get','input':{'city':'Oslo'}},"
	  "{'type':'tool_use','id':'c2','name':'get','input':{'city':'Rome'}}"
	  "]},"
	  "{'role':'user','content':["
	  "{'type':'tool_result','tool_use_id':'c1','content':'Sunny'},"
	  "{'type':'tool_result','tool_use_id':'c2','content':'Rain\\nCold'},"
	  "{'type':'text','text':'Thanks'}]}]," WEATHER_WIRE "}",
	  NULL, NULL, NULL },
	{ "adjacent user turns merged", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'a'}]},"
	  "{'role':'user','content':[{'type':'text','text':'b'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'a'},"
	  "{'type':'text','text':'b'}]}]}", NULL, NULL, NULL },
	{ "tool ids rewritten to the API alphabet", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[],'tool_calls':[{'id':'call.1/x',"
	  "'name':'f','arguments':{'a':1}}]},"
	  "{'role':'tool','tool_call_id':'call.1/x','name':'f','content':"
	  "[{'type':'text','text':'ok'}]}],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[{'type':'tool_use','id':'call_1_x',"
	  "'name':'f','input':{'a':1}}]},"
	  "{'role':'user','content':[{'type':'tool_result','tool_use_id':"
	  "'call_1_x','content':'ok'}]}]}", NULL, NULL, NULL },
	{ "signed reasoning replayed first", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Answer'}],"
	  "'reasoning':'Hmm','reasoning_signature':'sig=='},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'thinking','thinking':'Hmm',"
	  "'signature':'sig=='},{'type':'text','text':'Answer'}]},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}]}",
	  NULL, NULL, NULL },
	{ "unsigned reasoning dropped", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Answer'}],"
	  "'reasoning':'Hmm'},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Answer'}]},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}]}",
	  NULL, NULL, NULL },
	{ "allowEmptySignature: unsigned reasoning kept", T_EMPTYSIG,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':'Answer'}],"
	  "'reasoning':'Hmm','reasoning_signature':''},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'q'}]},"
	  "{'role':'assistant','content':[{'type':'thinking','thinking':'Hmm',"
	  "'signature':''},{'type':'text','text':'Answer'}]},"
	  "{'role':'user','content':[{'type':'text','text':'ok'}]}]}",
	  NULL, NULL, NULL },
	{ "tools, tool_choice auto", T_SONNET,
	  "{" HI "," WEATHER ",'tool_choice':'auto','max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'tool_choice':{'type':'auto'}}", NULL, NULL, NULL },
	{ "tool without parameters, tool_choice required", T_SONNET,
	  "{" HI ",'tools':[{'name':'now'}],'tool_choice':'required',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'tools':[{'name':'now','input_schema':{'type':'object',"
	  "'properties':{}}}],'tool_choice':{'type':'any'}}",
	  NULL, NULL, NULL },
	{ "strict tools dropped by default", T_SONNET,
	  "{" HI ",'tools':[{'name':'now','parameters':{'type':'object'},"
	  "'strict':true}],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'tools':[{'name':'now','input_schema':{'type':'object'}}]}",
	  NULL, NULL, NULL },
	{ "supportsStrictTools: strict kept", T_STRICT,
	  "{" HI ",'tools':[{'name':'now','parameters':{'type':'object'},"
	  "'strict':true},{'name':'later','parameters':{'type':'object'}}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'tools':[{'name':'now','input_schema':{'type':'object'},"
	  "'strict':true},{'name':'later','input_schema':{'type':"
	  "'object'}}]}", NULL, NULL, NULL },
	{ "tool_choice by name", T_SONNET,
	  "{" HI "," WEATHER ",'tool_choice':{'name':'get'},'max_tokens':256}",
	  0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'tool_choice':{'type':'tool','name':'get'}}",
	  NULL, NULL, NULL },
	{ "tool_choice none", T_SONNET,
	  "{" HI "," WEATHER ",'tool_choice':'none','max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'tool_choice':{'type':'none'}}", NULL, NULL, NULL },
	{ "streaming tools: eager_input_streaming", T_SONNET,
	  "{" HI "," WEATHER ",'max_tokens':256}", 1,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_EAGER ",'stream':true}", NULL, NULL, NULL },
	{ "supportsEagerToolInputStreaming false: beta header", T_COPILOT,
	  "{" HI "," WEATHER ",'max_tokens':256}", 1,
	  "{'model':'claude-haiku-4.5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'stream':true}",
	  "{'anthropic-beta':'" BETA "'}", NULL, NULL },
	{ "no beta header when not streaming", T_COPILOT,
	  "{" HI "," WEATHER ",'max_tokens':256}", 0,
	  "{'model':'claude-haiku-4.5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE "}", NULL, NULL, NULL },
	{ "beta joined to the target's own", T_BETA,
	  "{" HI "," WEATHER ",'max_tokens':256}", 1,
	  "{'model':'claude-haiku-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'stream':true}",
	  "{'Anthropic-Beta':'context-1m-2025-08-07," BETA "'}", NULL, NULL },
	{ "streaming without tools", T_COPILOT,
	  "{" HI ",'max_tokens':256}", 1,
	  "{'model':'claude-haiku-4.5','max_tokens':256," HI_WIRE ","
	  "'stream':true}", NULL, NULL, NULL },
	{ "stop sequences: whitespace-only dropped", T_SONNET,
	  "{" HI ",'stop':['END','\\n\\n',' ','##'],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'stop_sequences':['END','##']}", NULL, NULL, NULL },
	{ "only whitespace stop sequences: none sent", T_SONNET,
	  "{" HI ",'stop':['\\n'],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE "}",
	  NULL, NULL, NULL },
	{ "temperature and top_p without thinking", T_SONNET,
	  "{" HI ",'temperature':0.2,'top_p':0.9,'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'temperature':0.2,'top_p':0.9}", NULL, NULL, NULL },
	{ "budget thinking raises max_tokens, drops temperature", T_SONNET,
	  "{" HI ",'thinking':'high','thinking_value':'32768',"
	  "'temperature':0.2,'top_p':0.5,'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':33024," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':32768}}",
	  NULL, NULL, NULL },
	{ "budget under max_tokens: both kept, top_p 0.97 kept", T_SONNET,
	  "{" HI ",'thinking':'medium','thinking_value':'16384',"
	  "'top_p':0.97,'max_tokens':20000}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':20000," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':16384},'top_p':0.97}",
	  NULL, NULL, NULL },
	{ "budget clamped under the model cap", T_SMALL,
	  "{" HI ",'thinking':'high','thinking_value':'32768',"
	  "'max_tokens':30000}", 0,
	  "{'model':'claude-opus-4-1','max_tokens':32000," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':30976}}",
	  NULL, NULL, NULL },
	{ "numeric budget value, minimum 1024", T_SONNET,
	  "{" HI ",'thinking':'minimal','thinking_value':512,"
	  "'max_tokens':4000}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':4000," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':1024}}",
	  NULL, NULL, NULL },
	{ "a level the map lacks steps down", T_SONNET,
	  "{" HI ",'thinking':'xhigh','thinking_value':null,"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':33024," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':32768}}",
	  NULL, NULL, NULL },
	{ "thinking off", T_SONNET,
	  "{" HI ",'thinking':'off','thinking_value':'disabled',"
	  "'temperature':0.5,'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'temperature':0.5}", NULL, NULL, NULL },
	{ "effort map: adaptive thinking", T_OPUS46,
	  "{" HI ",'thinking':'high','thinking_value':'high',"
	  "'temperature':0.5,'max_tokens':256}", 0,
	  "{'model':'claude-opus-4-6','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},'output_config':{'effort':'high'}}",
	  NULL, NULL, NULL },
	{ "effort map: xhigh is max", T_OPUS46,
	  "{" HI ",'thinking':'xhigh','thinking_value':'max',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-opus-4-6','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},'output_config':{'effort':'max'}}",
	  NULL, NULL, NULL },
	{ "forceAdaptiveThinking over a budget map", T_FORCE,
	  "{" HI ",'thinking':'medium','thinking_value':'16384',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},"
	  "'output_config':{'effort':'medium'}}", NULL, NULL, NULL },
	{ "forceAdaptiveThinking: minimal is low", T_FORCE,
	  "{" HI ",'thinking':'minimal','thinking_value':'1024',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},'output_config':{'effort':'low'}}",
	  NULL, NULL, NULL },
	{ "no map: default budget table", T_MINIMAX,
	  "{" HI ",'thinking':'high','thinking_value':'high',"
	  "'max_tokens':1000}", 0,
	  "{'model':'MiniMax-M2.7','max_tokens':17384," HI_WIRE ","
	  "'thinking':{'type':'enabled','budget_tokens':16384}}",
	  NULL, NULL, NULL },
	{ "no map, adaptive model id", T_COPILOT_OPUS,
	  "{" HI ",'thinking':'low','thinking_value':'low',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-opus-4.6','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},'output_config':{'effort':'low'}}",
	  NULL, NULL, NULL },
	{ "forced tool_choice drops thinking", T_SONNET,
	  "{" HI "," WEATHER ",'tool_choice':'required','thinking':'high',"
	  "'thinking_value':'32768','temperature':0.3,'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  WEATHER_WIRE ",'tool_choice':{'type':'any'},'temperature':0.3}",
	  NULL, NULL, NULL },
	{ "reasoning false: no thinking", T_NOREASON,
	  "{" HI ",'thinking':'high','thinking_value':'high',"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-3-5-haiku','max_tokens':256," HI_WIRE "}",
	  NULL, NULL, NULL },
	{ "json_schema: output_config.format", T_SONNET,
	  "{" HI ",'response_format':{'type':'json_schema','name':'out',"
	  "'schema':" SCHEMA ",'strict':true},'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256," HI_WIRE ","
	  "'output_config':{'format':{'type':'json_schema','schema':"
	  SCHEMA "}}}", NULL, NULL, NULL },
	{ "json_schema with adaptive effort", T_OPUS46,
	  "{" HI ",'response_format':{'type':'json_schema','name':'out',"
	  "'schema':" SCHEMA "},'thinking':'medium',"
	  "'thinking_value':'medium','max_tokens':256}", 0,
	  "{'model':'claude-opus-4-6','max_tokens':256," HI_WIRE ","
	  "'thinking':{'type':'adaptive'},'output_config':{'format':"
	  "{'type':'json_schema','schema':" SCHEMA "},'effort':'medium'}}",
	  NULL, NULL, NULL },
	{ "json_object: system instruction", T_SONNET,
	  "{'system':'Be terse.'," HI ",'response_format':{'type':"
	  "'json_object'},'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'system':'Be terse.\\n\\n" INSTR "'," HI_WIRE "}",
	  NULL, NULL, NULL },
	{ "json_object without a system prompt, cached", T_CACHE,
	  "{" HI ",'response_format':{'type':'json_object'},"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,"
	  "'system':[{'type':'text','text':'" INSTR "'," CC "}],"
	  "'messages':[{'role':'user','content':[{'type':'text','text':'Hi',"
	  CC "}]}]}", NULL, NULL, NULL },
	{ "vertex: no model, anthropic_version in the body", T_VERTEX,
	  "{" HI ",'max_tokens':256}", 0,
	  "{'anthropic_version':'vertex-2023-10-16','max_tokens':256,"
	  HI_WIRE "}", NULL, NULL, NULL },
	{ "vertex streaming: streamRawPredict", T_VERTEX,
	  "{" HI ",'max_tokens':256}", 1,
	  "{'anthropic_version':'vertex-2023-10-16','max_tokens':256,"
	  HI_WIRE ",'stream':true}", NULL,
	  "'" VERTEX_URL ":streamRawPredict'", NULL },
	{ "tool result with an image: blocks", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[],'tool_calls':[{'id':'c1',"
	  "'name':'shot','arguments':{}}]},"
	  "{'role':'tool','tool_call_id':'c1','name':'shot','content':"
	  "[{'type':'text','text':'chart'},{'type':'image','mime':"
	  "'image/png','data':'AAAA'}]}],'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[{'type':'tool_use','id':'c1',"
	  "'name':'shot','input':{}}]},"
	  "{'role':'user','content':[{'type':'tool_result','tool_use_id':"
	  "'c1','content':[{'type':'text','text':'chart'},{'type':'image',"
	  "'source':{'type':'base64','media_type':'image/png','data':"
	  "'AAAA'}}]}]}]}", NULL, NULL, NULL },
	{ "tool result without content", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[],'tool_calls':[{'id':'c1',"
	  "'name':'f','arguments':{}}]},"
	  "{'role':'tool','tool_call_id':'c1','name':'f','content':[]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[{'type':'tool_use','id':'c1',"
	  "'name':'f','input':{}}]},"
	  "{'role':'user','content':[{'type':'tool_result','tool_use_id':"
	  "'c1'}]}]}", NULL, NULL, NULL },
	{ "empty text skipped, empty turn dropped, neighbours merged",
	  T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'text','text':''},"
	  "{'type':'text','text':'x'}]},"
	  "{'role':'assistant','content':[{'type':'text','text':''}]},"
	  "{'role':'user','content':[{'type':'text','text':'y'}]}],"
	  "'max_tokens':256}", 0,
	  "{'model':'claude-sonnet-4-5','max_tokens':256,'messages':["
	  "{'role':'user','content':[{'type':'text','text':'x'},"
	  "{'type':'text','text':'y'}]}]}", NULL, NULL, NULL },
	{ "json_schema without a schema fails", T_SONNET,
	  "{" HI ",'response_format':{'type':'json_schema','name':'x'}}", 0,
	  NULL, NULL, NULL, "no schema" },
	{ "no message with content fails", T_SONNET,
	  "{'messages':[]}", 0, NULL, NULL, NULL, "no message" },
	{ "image without a source fails", T_SONNET,
	  "{'messages':[{'role':'user','content':[{'type':'image'}]}]}", 0,
	  NULL, NULL, NULL, "neither" },
	{ "unknown role fails", T_SONNET,
	  "{'messages':[{'role':'robot','content':[]}]}", 0,
	  NULL, NULL, NULL, "unknown role 'robot'" },
	{ "target without a model fails", "{'provider':'x'}",
	  "{" HI "}", 0, NULL, NULL, NULL, "no model" },
};

#define USAGE0	"'usage':{'input':0,'output':0,'cache_read':0," \
	"'cache_write':0,'reasoning':0}"
#define WIRE_USAGE "'usage':{'input_tokens':3,'output_tokens':4}"
#define USAGE34	"'usage':{'input':3,'output':4,'cache_read':0," \
	"'cache_write':0,'reasoning':0}"
#define STOPCASE(r, want) \
	{ "stop_reason " r, \
	  "{'type':'message','content':[{'type':'text','text':'x'}]," \
	  "'stop_reason':'" r "'," WIRE_USAGE "}", \
	  "{'text':'x','stop_reason':'" want "'," USAGE34 "}", NULL }

struct pcase {
	const char	*name;
	const char	*body;	/* J() form, or raw when want is NULL */
	const char	*want;	/* NULL: parse fails */
	const char	*errsub;
};

static const struct pcase pcases[] = {
	{ "thinking, text, tool call, cache usage",
	  "{'id':'msg_1','type':'message','role':'assistant',"
	  "'model':'claude-sonnet-4-5-20250929','content':["
	  "{'type':'thinking','thinking':'Let me think.','signature':'EqQB'},"
	  "{'type':'text','text':'Checking '},{'type':'text','text':'now.'},"
	  "{'type':'tool_use','id':'toolu_01','name':'get','input':"
	  "{'city':'Oslo'}}],'stop_reason':'tool_use','stop_sequence':null,"
	  "'usage':{'input_tokens':10,'output_tokens':20,"
	  "'cache_read_input_tokens':100,'cache_creation_input_tokens':5}}",
	  "{'text':'Checking now.','reasoning':'Let me think.',"
	  "'reasoning_signature':'EqQB','tool_calls':[{'id':'toolu_01',"
	  "'name':'get','arguments':{'city':'Oslo'}}],'stop_reason':"
	  "'tool_use','usage':{'input':10,'output':20,'cache_read':100,"
	  "'cache_write':5,'reasoning':0},"
	  "'provider_model':'claude-sonnet-4-5-20250929'}", NULL },
	{ "no content blocks, refusal",
	  "{'type':'message','content':[],'stop_reason':'refusal'}",
	  "{'text':null,'stop_reason':'refusal'," USAGE0 "}", NULL },
	STOPCASE("end_turn", "stop"),
	STOPCASE("stop_sequence", "stop"),
	STOPCASE("max_tokens", "length"),
	STOPCASE("model_context_window_exceeded", "length"),
	STOPCASE("pause_turn", "stop"),
	STOPCASE("tool_use", "tool_use"),
	{ "thinking tokens when the server reports them",
	  "{'type':'message','content':[{'type':'text','text':'x'}],"
	  "'stop_reason':'end_turn','usage':{'input_tokens':3,"
	  "'output_tokens':40,'output_tokens_details':{'thinking_tokens':"
	  "30}}}",
	  "{'text':'x','stop_reason':'stop','usage':{'input':3,'output':40,"
	  "'cache_read':0,'cache_write':0,'reasoning':30}}", NULL },
	{ "tool input that is no object",
	  "{'type':'message','content':[{'type':'tool_use','id':'t','name':"
	  "'f','input':42}],'stop_reason':'tool_use'," WIRE_USAGE "}",
	  "{'text':null,'tool_calls':[{'id':'t','name':'f','arguments':{},"
	  "'arguments_raw':'42'}],'stop_reason':'tool_use'," USAGE34 "}",
	  NULL },
	{ "server tool blocks ignored",
	  "{'type':'message','content':[{'type':'server_tool_use','id':'s',"
	  "'name':'web_search','input':{'query':'q'}},{'type':"
	  "'web_search_tool_result','tool_use_id':'s','content':[]},"
	  "{'type':'text','text':'Found.'}],'stop_reason':'end_turn',"
	  WIRE_USAGE "}",
	  "{'text':'Found.','stop_reason':'stop'," USAGE34 "}", NULL },
	{ "not JSON fails", "<html>bad gateway</html>", NULL,
	  "not a JSON object" },
	{ "error envelope in a 2xx fails",
	  "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	  "\"message\":\"Overloaded\"}}", NULL, "Overloaded" },
	{ "no content list fails", "{\"type\":\"message\"}", NULL,
	  "no content" },
	{ "empty body fails", "", NULL, "empty" },
};

struct ecase {
	const char	*name;
	int		 status;
	const char	*body;	/* raw */
	const char	*want;	/* J() form */
};

static const struct ecase ecases[] = {
	{ "overloaded_error", 529,
	  "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	  "\"message\":\"Overloaded\"},\"request_id\":\"req_1\"}",
	  "{'message':'Overloaded','type':'overloaded_error'}" },
	{ "invalid_request_error", 400,
	  "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
	  "\"message\":\"max_tokens: Field required\"}}",
	  "{'message':'max_tokens: Field required',"
	  "'type':'invalid_request_error'}" },
	{ "vertex, Google style", 429,
	  "{\"error\":{\"code\":429,\"message\":\"Quota exceeded\","
	  "\"status\":\"RESOURCE_EXHAUSTED\"}}",
	  "{'message':'Quota exceeded','code':'429',"
	  "'type':'RESOURCE_EXHAUSTED'}" },
	{ "envelope without an error: no type", 500,
	  "{\"type\":\"error\"}", "{}" },
	{ "not JSON: first line", 502,
	  "upstream connect error\nreset reason: overflow", 
	  "{'message':'upstream connect error'}" },
	{ "empty body", 503, "", "{}" },
};

/* JSON written with ' for ". */
static jv
J(const char *s)
{
	char *t = xstrdup(s), *p;
	jv v;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	v = jv_parse(t);
	if (!jv_is_valid(v)) {
		jv m = jv_invalid_get_msg(v);

		diag("bad test JSON: %s: %s", jv_string_value(m), t);
		jv_free(m);
		free(t);
		abort();
	}
	free(t);
	return v;
}

static void
show(const char *what, jv v)
{
	jv s = jv_dump_string(jv_copy(v), 0);

	diag("%s: %s", what, jv_string_value(s));
	jv_free(s);
}

/* Compares, showing both on a mismatch.  Borrows both. */
static int
same(const char *what, jv got, jv want)
{
	if (jv_equal(jv_copy(got), jv_copy(want)) == 1)
		return 1;
	diag("%s differs", what);
	show("  got ", got);
	show("  want", want);
	return 0;
}

static void
test_build(void)
{
	size_t i;

	for (i = 0; i < nitems(bcases); i++) {
		const struct bcase *c = &bcases[i];
		jv canon = J(c->canon), target = J(c->target);
		jv body, headers, url, w;
		char err[ERRBUF_MAX] = "";
		int r, good;

		r = D.build(canon, target, c->stream, &body, &headers, &url,
		    err);
		if (c->body == NULL) {
			good = r == -1 && strstr(err, c->errsub) != NULL;
			if (!good)
				diag("r %d, err '%s'", r, err);
			ok(good, "build: %s", c->name);
			if (r == 0) {
				jv_free(body);
				jv_free(headers);
				jv_free(url);
			}
			jv_free(canon);
			jv_free(target);
			continue;
		}
		if (r != 0) {
			ok(0, "build: %s", c->name);
			diag("build failed: %s", err);
			jv_free(canon);
			jv_free(target);
			continue;
		}
		w = J(c->body);
		good = same("body", body, w);
		jv_free(w);
		w = J(c->headers != NULL ? c->headers : "{}");
		good &= same("headers", headers, w);
		jv_free(w);
		w = c->url != NULL ? J(c->url) : jv_null();
		good &= same("url", url, w);
		jv_free(w);
		ok(good, "build: %s", c->name);
		jv_free(body);
		jv_free(headers);
		jv_free(url);
		jv_free(canon);
		jv_free(target);
	}
}

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < nitems(pcases); i++) {
		const struct pcase *c = &pcases[i];
		char err[ERRBUF_MAX] = "", *body;
		jv resp, w;
		int r;

		if (c->want != NULL) {
			jv s = jv_dump_string(J(c->body), 0);

			body = xstrdup(jv_string_value(s));
			jv_free(s);
		} else
			body = xstrdup(c->body);
		r = D.parse(body, strlen(body), jv_null(), &resp, err);
		if (c->want == NULL) {
			ok(r == -1 && strstr(err, c->errsub) != NULL,
			    "parse: %s", c->name);
			if (r == 0)
				jv_free(resp);
		} else if (r != 0) {
			ok(0, "parse: %s", c->name);
			diag("parse failed: %s", err);
		} else {
			w = J(c->want);
			ok(same("response", resp, w), "parse: %s", c->name);
			jv_free(w);
			jv_free(resp);
		}
		free(body);
	}
}

static void
test_error(void)
{
	size_t i;

	for (i = 0; i < nitems(ecases); i++) {
		const struct ecase *c = &ecases[i];
		jv e = D.error(c->status, c->body, strlen(c->body));
		jv w = J(c->want);

		ok(same("error", e, w), "error: %s", c->name);
		jv_free(e);
		jv_free(w);
	}
}

/*
 * Several thinking blocks and a redacted one cannot live in one text and
 * one signature: parse keeps them as a list in reasoning_signature, and
 * build must replay exactly those blocks.
 */
static void
test_thinking_round_trip(void)
{
	const char *wire =
	    "{'type':'message','model':'claude-sonnet-4-5','content':["
	    "{'type':'thinking','thinking':'First.','signature':'s1'},"
	    "{'type':'redacted_thinking','data':'ENCRYPTED'},"
	    "{'type':'thinking','thinking':'Second.','signature':'s2'},"
	    "{'type':'text','text':'Done.'}],'stop_reason':'end_turn',"
	    WIRE_USAGE "}";
	const char *blocks =
	    "[{'type':'thinking','thinking':'First.','signature':'s1'},"
	    "{'type':'redacted_thinking','data':'ENCRYPTED'},"
	    "{'type':'thinking','thinking':'Second.','signature':'s2'}]";
	char err[ERRBUF_MAX] = "";
	jv v, resp, got, w, canon, msgs, body, headers, url, target;
	const char *sig;
	int r;

	v = jv_dump_string(J(wire), 0);
	r = D.parse(jv_string_value(v), strlen(jv_string_value(v)),
	    jv_null(), &resp, err);
	jv_free(v);
	if (!ok(r == 0, "round trip: parse thinking and redacted_thinking")) {
		diag("%s", err);
		ok(0, "round trip: the blocks kept as a list");
		ok(0, "round trip: build replays the list verbatim");
		return;
	}
	got = json_get(resp, "reasoning");
	w = J("'First.\\nSecond.'");
	ok(same("reasoning", got, w), "round trip: the thinking texts joined");
	jv_free(got);
	jv_free(w);
	sig = json_peek_string(resp, "reasoning_signature");
	got = sig != NULL ? jv_parse(sig) : jv_invalid();
	w = J(blocks);
	ok(same("reasoning_signature list", got, w),
	    "round trip: the blocks kept as a list");
	jv_free(got);
	jv_free(w);

	/* Replay: the signature list wins over the reasoning text. */
	msgs = J("[{'role':'user','content':[{'type':'text','text':'q'}]},"
	    "{'role':'assistant','content':[{'type':'text','text':'Done.'}]},"
	    "{'role':'user','content':[{'type':'text','text':'next'}]}]");
	got = jv_array_get(jv_copy(msgs), 1);
	got = jv_object_set(got, jv_string("reasoning"),
	    json_get(resp, "reasoning"));
	got = jv_object_set(got, jv_string("reasoning_signature"),
	    json_get(resp, "reasoning_signature"));
	msgs = jv_array_set(msgs, 1, got);
	canon = jv_object_set(J("{'max_tokens':100}"), jv_string("messages"),
	    msgs);
	target = J(T_SONNET);
	r = D.build(canon, target, 0, &body, &headers, &url, err);
	if (r == 0) {
		got = jv_array_get(json_get(body, "messages"), 1);
		v = json_get(got, "content");
		w = jv_array_concat(J(blocks),
		    J("[{'type':'text','text':'Done.'}]"));
		ok(same("assistant content", v, w),
		    "round trip: build replays the list verbatim");
		jv_free(v);
		jv_free(w);
		jv_free(got);
		jv_free(body);
		jv_free(headers);
		jv_free(url);
	} else {
		ok(0, "round trip: build replays the list verbatim");
		diag("%s", err);
	}
	jv_free(canon);
	jv_free(target);
	jv_free(resp);
}

/* The fixture file's contents, or NULL when it cannot be read. */
static char *
fixture(const char *name, size_t *lenp)
{
	const char *dir = getenv("LLM_FIXTURES");
	char *path, *data = NULL;
	size_t n = 0, cap = 0, r;
	FILE *f;

	path = xasprintf("%s/anthropic-messages/%s",
	    dir != NULL && *dir != '\0' ? dir : "../shared/fixtures", name);
	f = fopen(path, "rb");
	free(path);
	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096)
			data = xrealloc(data, cap = cap * 2 + 4096);
		if ((r = fread(data + n, 1, cap - n - 1, f)) == 0)
			break;
		n += r;
	}
	fclose(f);
	data[n] = '\0';
	*lenp = n;
	return data;
}

static void
skip(int n, const char *what)
{
	while (n-- > 0)
		ok(1, "%s # SKIP fixtures not found", what);
}

/* The real 200 body the Python SDK received (structured output). */
static void
test_fixture_parse(void)
{
	char err[ERRBUF_MAX] = "", *body;
	size_t len;
	jv resp, w;
	int r;

	if ((body = fixture("retry-429-nonstream.3.json", &len)) == NULL) {
		skip(1, "fixture: parse the 200 body");
		return;
	}
	r = D.parse(body, len, jv_null(), &resp, err);
	free(body);
	if (r != 0) {
		ok(0, "fixture: parse the 200 body");
		diag("%s", err);
		return;
	}
	w = J("{'text':'{\\'items\\':[{\\'product_name\\':"
	    "\\'Green Tea\\',\\'price\\':5.50,\\'quantity\\':2},"
	    "{\\'product_name\\':\\'Coffee\\',\\'price\\':3.00,"
	    "\\'quantity\\':1}],\\'total\\':14.0}',"
	    "'stop_reason':'stop','usage':{'input':406,'output':50,"
	    "'cache_read':0,'cache_write':0,'reasoning':0},"
	    "'provider_model':'claude-sonnet-4-5-20250929'}");
	ok(same("response", resp, w), "fixture: parse the 200 body");
	jv_free(w);
	jv_free(resp);
}

/* The two real 429 bodies. */
#define PREFIX_429	"This request would exceed your organization"

static void
test_fixture_errors(void)
{
	static const char *const names[] = {
		"retry-429-nonstream.1.json", "retry-429-nonstream.2.json"
	};
	const char *m, *t;
	char *body;
	size_t i, len;
	jv e;

	for (i = 0; i < nitems(names); i++) {
		if ((body = fixture(names[i], &len)) == NULL) {
			skip(1, names[i]);
			continue;
		}
		e = D.error(429, body, len);
		free(body);
		m = json_peek_string(e, "message");
		t = json_peek_string(e, "type");
		if (!ok(t != NULL && strcmp(t, "rate_limit_error") == 0 &&
		    m != NULL && strncmp(m, PREFIX_429,
		    strlen(PREFIX_429)) == 0 && strstr(m, "rate limit "
		    "increase.") != NULL && json_peek_kind(e, "code") ==
		    JV_KIND_INVALID, "fixture: error %s", names[i]))
			show("  got", e);
		jv_free(e);
	}
}

/*
 * String content as the SDK writes it, in canonical blocks, so that the
 * recorded request compares with a built one.
 */
static jv
blocks_content(jv msgs)
{
	int i, n = jv_array_length(jv_copy(msgs));

	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(msgs), i);
		jv c = json_get(m, "content");

		if (jv_get_kind(c) == JV_KIND_STRING)
			c = JV_ARRAY(jv_object_set(jv_object_set(jv_object(),
			    jv_string("type"), jv_string("text")),
			    jv_string("text"), c));
		m = jv_object_set(m, jv_string("content"), c);
		msgs = jv_array_set(msgs, i, m);
	}
	return msgs;
}

/*
 * Shape check against what the SDK sent: the canonical form of the
 * recorded request (structured output, streamed and not) must build to
 * the recorded body, with the recorded anthropic-version header.
 */
static void
test_fixture_requests(void)
{
	static const char *const names[] = {
		"retry-429-nonstream.transcript.json",
		"retry-429-stream.transcript.json"
	};
	char err[ERRBUF_MAX] = "", *text;
	size_t i, len;
	jv tr, req, want, canon, rf, target, body, headers, url, w;
	int stream, r, good;

	for (i = 0; i < nitems(names); i++) {
		if ((text = fixture(names[i], &len)) == NULL) {
			skip(1, names[i]);
			continue;
		}
		tr = jv_parse_sized(text, (int)len);
		free(text);
		w = jv_array_get(tr, 2);
		req = json_get(w, "request");
		jv_free(w);
		want = json_get(req, "body");
		want = jv_object_set(want, jv_string("messages"),
		    blocks_content(json_get(want, "messages")));
		stream = json_peek_kind(want, "stream") == JV_KIND_TRUE;

		w = json_get(want, "output_config");
		rf = json_get(w, "format");
		jv_free(w);
		rf = jv_object_set(rf, jv_string("name"), jv_string("out"));
		canon = jv_object_set(jv_object_set(jv_object_set(jv_object(),
		    jv_string("messages"), json_get(want, "messages")),
		    jv_string("max_tokens"), json_get(want, "max_tokens")),
		    jv_string("response_format"), rf);
		/* The SDK sends no cache markers and the version itself. */
		target = J("{'provider':'anthropic','api':'anthropic-messages',"
		    "'url':'https://api.anthropic.com/v1/messages',"
		    "'model':'claude-sonnet-4-5',"
		    "'compat':{'cacheControlFormat':'none'},"
		    "'max_tokens':64000}");
		r = D.build(canon, target, stream, &body, &headers, &url, err);
		if (r != 0) {
			ok(0, "fixture: rebuild %s", names[i]);
			diag("%s", err);
		} else {
			rf = json_get(req, "headers");
			w = jv_object_set(jv_object(),
			    jv_string("anthropic-version"),
			    json_get(rf, "anthropic-version"));
			jv_free(rf);
			good = same("body", body, want);
			good &= same("headers", headers, w);
			good &= jv_get_kind(url) == JV_KIND_NULL;
			ok(good, "fixture: rebuild %s", names[i]);
			jv_free(w);
			jv_free(body);
			jv_free(headers);
			jv_free(url);
		}
		jv_free(canon);
		jv_free(target);
		jv_free(want);
		jv_free(req);
	}
}

int
main(void)
{
	ok(strcmp(D.api, "anthropic-messages") == 0, "api name");
	test_build();
	test_parse();
	test_error();
	test_thinking_round_trip();
	test_fixture_parse();
	test_fixture_errors();
	test_fixture_requests();
	return done();
}
