#include <string.h>

#include "dialect.h"

static const struct dialect *const dialects[] = {
	&dialect_openai_completions,
	&dialect_openai_responses,
	&dialect_anthropic_messages,
	&dialect_google_generative_ai,
	&dialect_echo,
};

const struct dialect *
dialect_find(const char *api)
{
	size_t i;

	for (i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
		if (strcmp(dialects[i]->api, api) == 0)
			return dialects[i];
	return NULL;
}
