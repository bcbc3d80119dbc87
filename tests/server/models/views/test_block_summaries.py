"""The Blocks page's queries: documents listed without decrypting their data, by type, and counted per type."""

from __future__ import annotations

from baton.server.blocks import register_system_blocks
from baton.server.blocks.encryption import BlockCipher
from baton.server.database.engine import Database
from baton.server.models.blocks import block_documents, block_types
from baton.server.models.views import block_summaries
from baton.server.schemas.blocks import BlockDocumentCreate


async def test_summaries_by_type_counts_and_newest_schema(database: Database) -> None:
    await register_system_blocks(database)
    cipher = BlockCipher()
    async with database.write() as connection:
        slack = await block_types.read_block_type_by_slug(connection, "slack-webhook")
        secret = await block_types.read_block_type_by_slug(connection, "secret")
        assert slack is not None and secret is not None
        slack_schema = await block_summaries.read_newest_block_schema(connection, slack["id"])
        secret_schema = await block_summaries.read_newest_block_schema(connection, secret["id"])
        assert slack_schema is not None and secret_schema is not None
        assert slack_schema["fields"]["secret_fields"] == ["url"]
        for name, block_type, schema, anonymous in (
            ("b-alerts", slack, slack_schema, False),
            ("a-alerts", slack, slack_schema, False),
            ("db-password", secret, secret_schema, False),
            (None, secret, secret_schema, True),
        ):
            await block_documents.create_block_document(
                connection,
                BlockDocumentCreate(
                    name=name,
                    block_type_id=block_type["id"],
                    block_schema_id=schema["id"],
                    data={"url": "https://x"} if block_type is slack else {"value": "s3cret"},
                    is_anonymous=anonymous,
                ),
                cipher,
            )

    async with database.read() as connection:
        everything = block_summaries.named_documents_condition()
        rows = await block_summaries.read_block_document_summaries(connection, everything, 10, 0)
        assert [(row["block_type_slug"], row["name"]) for row in rows] == [
            ("secret", "db-password"),
            ("slack-webhook", "a-alerts"),
            ("slack-webhook", "b-alerts"),
        ]
        assert "data" not in rows[0] and rows[0]["block_type_name"] == "Secret"
        assert await block_summaries.count_block_document_summaries(connection, everything) == 3
        only_slack = block_summaries.named_documents_condition("slack-webhook")
        page = await block_summaries.read_block_document_summaries(connection, only_slack, 1, 1)
        assert [row["name"] for row in page] == ["b-alerts"]
        assert await block_summaries.count_block_document_summaries(connection, only_slack) == 2
        named_a = block_summaries.named_documents_condition(None, "A-ALERT")
        assert [
            row["name"] for row in await block_summaries.read_block_document_summaries(connection, named_a, 5, 0)
        ] == ["a-alerts"]
        # The search is literal: % and _ are not wildcards.
        assert (
            await block_summaries.count_block_document_summaries(
                connection, block_summaries.named_documents_condition(None, "%")
            )
            == 0
        )
        unknown = block_summaries.named_documents_condition("no-such-type")
        assert await block_summaries.count_block_document_summaries(connection, unknown) == 0
        counts = await block_summaries.count_named_documents_by_block_type(connection)
        assert counts == {slack["id"]: 2, secret["id"]: 1}
