"""AWS on loopback for the benchmark's runs that reach it (the token in SSM, the later replies'
queue, the worker's records in DynamoDB): a moto server, and what its clients are made with."""

import contextlib
import socket
from collections.abc import Iterator
from typing import TypedDict

import boto3

AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
"""What boto3 signs its requests to the moto server with."""


class ClientOptions(TypedDict):
    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on loopback, for every AWS service the project calls: its endpoint."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def client_options(endpoint: str) -> ClientOptions:
    """What a boto3 client of the moto server at `endpoint` is made with:
    `boto3.client("sqs", **client_options(endpoint))`."""
    return {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }


def create_idempotency_table(endpoint: str, name: str) -> None:
    """A deduplication table as the stack makes it, on the moto server at `endpoint`."""
    boto3.client("dynamodb", **client_options(endpoint)).create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
