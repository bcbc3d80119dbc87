"""The automations engine, free of HTTP: trigger evaluation, action execution and the templates actions render."""
