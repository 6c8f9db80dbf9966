def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        ypred = [model(x) for x in xs]
        loss = sum((yp - y) ** 2 for y, yp in zip(ys, ypred))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
