"""Published: what a tenant exposes to others — embeddable bots answering with beta tokens (`bots.BotService`) and
Dify's External Knowledge API (`dify.DifyRetrieval`)."""
