// Methods the specs name must be registered; importing their packages registers them.
import '@vpeft/method-adapter';
import '@vpeft/method-bitfit';
import '@vpeft/method-lora';
import '@vpeft/method-vpt';
