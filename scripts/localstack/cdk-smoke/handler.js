// Consumer for the cdk-smoke stack: writes each SQS record to DynamoDB, fails bodies "fail".
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');

const ddb = new DynamoDBClient({});

exports.handler = async (event, context) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    await ddb.send(
      new PutItemCommand({
        TableName: process.env.TABLE_NAME,
        Item: {
          pk: { S: r.messageId },
          body: { S: r.body },
          fn: { S: context.functionName },
        },
      }),
    );
    if (r.body === 'fail') batchItemFailures.push({ itemIdentifier: r.messageId });
  }
  return { batchItemFailures };
};
