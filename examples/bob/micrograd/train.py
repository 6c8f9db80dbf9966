def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for k in range(steps):
        # forward
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))

        # backward
        loss.backward()

        # update
        for p in model.parameters():
            p.data += -lr * p.grad

        losses.append(loss.data)
    return losses
